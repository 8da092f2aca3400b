use crate::dockerfile::model::{Dockerfile, unquote};
use crate::dockerfile::reference::parse_platform;
use crate::docs::{self, RuleMeta};
use crate::rules::{Ctx, Rule};

/// SLD040: `FROM --platform=<constant>` in a stage whose name does not mention that platform
/// (BuildKit's `FromPlatformFlagConstDisallowed`).
pub struct FromPlatformFlagConstDisallowed;

impl Rule for FromPlatformFlagConstDisallowed {
    fn meta(&self) -> &'static RuleMeta {
        docs::FROM_PLATFORM_FLAG_CONST_DISALLOWED
    }

    fn check_dockerfile(&self, cx: &mut Ctx<'_>, df: &Dockerfile) {
        let esc = df.escape_char();
        for stage in &df.stages {
            let Some(platform) = &stage.platform else {
                continue;
            };
            let value = unquote(&platform.value);
            if !crate::dockerfile::vars::var_refs(value, esc, true).is_empty() {
                continue; // a variable: not a constant
            }
            let Some((os, arch)) = parse_platform(value) else {
                continue; // not a platform: the build fails on it
            };
            let name = stage.name.as_ref().map_or("", |n| n.value.as_str());
            if name.contains(os.as_str()) || name.contains(arch.as_str()) {
                continue;
            }
            let shown = crate::source::clip(value, 60);
            cx.report(
                platform.span,
                format!("`FROM --platform={shown}` pins the stage to one platform"),
            )
            .help("use `$BUILDPLATFORM`/`$TARGETPLATFORM`, or name the stage after the platform (`AS build-amd64`) when the pin is deliberate");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::dockerfile::test_util::findings;

    #[test]
    fn constant_platforms() {
        let text = "FROM --platform=linux/amd64 scratch\nFROM --platform=linux/amd64 scratch AS my_amd64_stage\nFROM --platform=linux/amd64 scratch AS linux\nFROM --platform=$BUILDPLATFORM a\nFROM --platform=linux/x86_64 a AS build-amd64\nFROM --platform=\"linux/arm64\" a AS b\nFROM --platform=bogus a\n";
        let f = findings("from-platform-flag-const-disallowed", text);
        assert_eq!(
            f.iter().map(|f| f.1.as_str()).collect::<Vec<_>>(),
            ["1:17-1:28", "6:17-6:30"]
        );
        assert_eq!(
            f[1].2,
            "`FROM --platform=linux/arm64` pins the stage to one platform"
        );
    }
}
