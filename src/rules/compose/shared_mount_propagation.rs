use crate::compose::model::ComposeFile;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// A mount with `shared` or `rshared` propagation.
pub struct SharedMountPropagation;

impl Rule for SharedMountPropagation {
    fn meta(&self) -> &'static RuleMeta {
        docs::SHARED_MOUNT_PROPAGATION
    }

    fn check_compose(&self, cx: &mut Ctx<'_>, compose: &ComposeFile) {
        for service in &compose.services {
            for volume in &service.volumes {
                for option in &volume.options {
                    let Some(mode) = option.value.known().map(str::trim) else {
                        continue;
                    };
                    if !matches!(mode, "shared" | "rshared") {
                        continue;
                    }
                    let path = volume
                        .source
                        .as_ref()
                        .or(volume.target.as_ref())
                        .map_or("", |v| v.value.text());
                    cx.report(
                        option.span,
                        format!(
                            "service `{}` mounts `{}` with `{mode}` propagation",
                            super::svc(service),
                            crate::source::clip(path, 20)
                        ),
                    )
                    .help("remove the propagation option (the default is `rprivate`), or use `rslave` if the container must see host mounts");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{findings, messages};

    const RULE: &str = "shared-mount-propagation";

    #[test]
    fn short_and_long_syntax() {
        let text = "services:\n  a:\n    image: x:1\n    volumes:\n      - /mnt/media:/media:rshared\n      - /mnt/a:/a:ro,shared\n      - /mnt/b:/b:rslave\n      - type: bind\n        source: /mnt/c\n        target: /c\n        bind:\n          propagation: shared\n      - type: bind\n        source: /mnt/d\n        target: /d\n        bind:\n          propagation: private\n";
        assert_eq!(
            findings(RULE, text),
            vec![
                ("SLC019", "rshared".to_string()),
                ("SLC019", "shared".to_string()),
                ("SLC019", "shared".to_string())
            ]
        );
        assert_eq!(
            messages(RULE, text).first().map(String::as_str),
            Some("service `a` mounts `/mnt/media` with `rshared` propagation")
        );
    }
}
