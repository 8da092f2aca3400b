use crate::dockerfile::model::Dockerfile;
use crate::dockerfile::packages::{Install, Manager};
use crate::docs::{self, RuleMeta};
use crate::rules::dockerfile::package_pins::{self, Pins, Verdict};
use crate::rules::{Ctx, Rule};

/// SLD049: `gem install` of a gem without a version.
pub struct GemPackageUnpinned;

impl Pins for GemPackageUnpinned {
    fn manager(&self) -> Manager {
        Manager::Gem
    }

    /// `-v`/`--version` pins every gem named (gem refuses it with more than one); `-g FILE`
    /// installs what a gem dependencies file (a Gemfile) lists; `--explain` installs nothing;
    /// `-l`/`--local` installs `.gem` files already in the image or the context, not from a
    /// source.
    fn judged(&self, install: &Install<'_>) -> bool {
        !install.has(&[
            "-v",
            "--version",
            "-g",
            "--file",
            "--explain",
            "-l",
            "--local",
        ])
    }

    fn verdict(&self, _install: &Install<'_>, package: &str) -> Verdict {
        if package.contains(':') || package.ends_with(".gem") || package_pins::is_path(package) {
            Verdict::Pinned
        } else {
            Verdict::Unpinned
        }
    }

    fn help(&self, _install: &Install<'_>, package: &str) -> String {
        format!(
            "pin the version: `gem install {package}:<version>` or `gem install {package} -v <version>`, or install from a Gemfile.lock with `bundle install`"
        )
    }
}

impl Rule for GemPackageUnpinned {
    fn meta(&self) -> &'static RuleMeta {
        docs::GEM_PACKAGE_UNPINNED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        package_pins::check(self, cx, df);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::{findings, spans};

    const R: &str = "gem-package-unpinned";

    fn run(cmd: &str) -> Vec<String> {
        spans(R, &format!("FROM ruby:3.3\nRUN {cmd}\n"))
    }

    #[test]
    fn message_and_span() {
        assert_eq!(
            findings(R, "FROM ruby:3.3\nRUN gem install bundler:2.5.6 rake\n"),
            vec![(
                "SLD049",
                "2:31-2:35".to_string(),
                "`rake` is installed by gem without a version pin".to_string()
            )]
        );
    }

    #[test]
    fn flagged() {
        for (cmd, want) in [
            ("gem install bundler", vec!["bundler"]),
            ("gem i bundler:1 nokogiri", vec!["nokogiri"]),
            // options without an argument do not take the gem with them
            ("gem install --no-document bundler", vec!["bundler"]),
            (
                "gem install -N --source https://rubygems.org rails",
                vec!["rails"],
            ),
            ("gem install rails -- --use-system-libraries", vec!["rails"]),
        ] {
            assert_eq!(run(cmd), want, "{cmd}");
        }
    }

    #[test]
    fn not_flagged() {
        for cmd in [
            "gem install bundler:2.5.6",
            "gem install 'rails:~>7.1'",
            "gem install bundler -v '2.0.1'",
            "gem install bundler --version=2.0.1",
            "gem install --no-document -v 2.5 bundler",
            "gem install ./pkg/tool-1.0.gem",
            "gem install -g Gemfile",
            "gem update --system",
            "bundle install",
            "gem install --local tool",
            "gem install -N -l tool",
        ] {
            assert_eq!(run(cmd), Vec::<String>::new(), "{cmd}");
        }
    }
}
