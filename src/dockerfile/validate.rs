//! Argument values that `docker build` rejects although the instruction parses: durations and
//! retries of `HEALTHCHECK`, ports of `EXPOSE`, `RUN --network`/`--security` modes, numeric
//! `--chmod` modes, `STOPSIGNAL` names. The rules follow BuildKit (`instructions/parse.go`,
//! `commands_runnetwork.go`, `commands_runsecurity.go`, `dockerfile2llb/convert_expose.go`,
//! `convert_copy.go`) and moby's `signal.ParseSignal`; see `rules/dockerfile-syntax-error.md`.
//!
//! Values that BuildKit expands from build arguments first (`EXPOSE $PORT`, `STOPSIGNAL $SIG`,
//! `--chmod=$MODE`) are not judged: their value is not known here.

use super::model::{Flag, HealthcheckArg, Instruction, Keyword, ParseError};
use crate::source::Span;

fn err(message: String, span: Span, help: &str) -> ParseError {
    ParseError {
        message,
        span,
        help: Some(help.to_string()),
    }
}

/// Reports the rejected values of one instruction.
pub(crate) fn values(ins: &Instruction, errors: &mut Vec<ParseError>) {
    match ins.kind {
        Keyword::Healthcheck => healthcheck(ins, errors),
        Keyword::Expose => {
            for port in ins.ports() {
                if expands(port.written) {
                    continue;
                }
                if let Err(reason) = port_spec(port.written) {
                    errors.push(err(
                        format!("invalid port `{}` in `EXPOSE`: {reason}", port.written),
                        port.span,
                        "write `EXPOSE <port>[/tcp|/udp|/sctp]` or a range `8000-8010/tcp`",
                    ));
                }
            }
        }
        Keyword::Run => {
            for f in &ins.flags {
                let allowed: &[&str] = match f.name.value.as_str() {
                    "network" => &["default", "none", "host"],
                    "security" => &["insecure", "sandbox"],
                    _ => continue,
                };
                let Some(v) = f.unquoted_value() else {
                    continue;
                };
                if !allowed.contains(&v.as_str()) {
                    errors.push(err(
                        format!("invalid `--{}` mode `{v}`", f.name.value),
                        value_span(f),
                        &format!(
                            "`--{}` is one of {}",
                            f.name.value,
                            allowed
                                .iter()
                                .map(|a| format!("`{a}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        }
        Keyword::Copy | Keyword::Add => {
            if let Some(f) = ins.flag("chmod")
                && let Some(v) = f.unquoted_value()
                && !expands(&v)
                && !v.is_empty()
                && v.bytes().all(|b| b.is_ascii_digit())
                && u32::from_str_radix(&v, 8).map_or(true, |m| m > 0o7777)
            {
                errors.push(err(
                    format!("invalid `--chmod` mode `{v}`: not an octal mode up to 07777"),
                    value_span(f),
                    "write an octal mode such as `--chmod=0644` (or a symbolic one, `u=rw,go=r`)",
                ));
            }
        }
        Keyword::StopSignal => {
            if let Some(text) = ins.args.text() {
                let v = text.value.trim();
                if !v.is_empty() && !expands(v) && !is_signal(v) {
                    errors.push(err(
                        format!("invalid signal `{v}` in `STOPSIGNAL`"),
                        text.span,
                        "write a signal name such as `SIGTERM` or a number such as `15`",
                    ));
                }
            }
        }
        _ => {}
    }
}

/// Whether BuildKit expands variables (or processes quotes) in `s` before using it.
fn expands(s: &str) -> bool {
    s.contains(['$', '"', '\'', '\\'])
}

fn value_span(f: &Flag) -> Span {
    f.value.as_ref().map_or(f.span, |v| v.span)
}

fn healthcheck(ins: &Instruction, errors: &mut Vec<ParseError>) {
    if let Some(HealthcheckArg::None { .. }) = ins.healthcheck() {
        return;
    }
    for f in &ins.flags {
        let name = f.name.value.as_str();
        let Some(v) = f.unquoted_value() else {
            continue;
        };
        match name {
            "interval" | "timeout" | "start-period" | "start-interval" => {
                if v.is_empty() {
                    continue;
                }
                match go_duration(&v) {
                    Err(reason) => errors.push(err(
                        format!("invalid duration `{v}` for `--{name}`: {reason}"),
                        value_span(f),
                        "write a duration with a unit, such as `30s`, `1m30s` or `500ms`",
                    )),
                    Ok(ns) if ns != 0 && ns < 1_000_000 => errors.push(err(
                        format!("`--{name}={v}` is less than 1ms"),
                        value_span(f),
                        "write a duration of at least `1ms` (or `0` for the default)",
                    )),
                    Ok(_) => {}
                }
            }
            "retries" if !v.is_empty() => match v.parse::<i32>() {
                Err(_) => errors.push(err(
                    format!("invalid `--retries` value `{v}`: not a whole number"),
                    value_span(f),
                    "write a number of retries such as `--retries=3`",
                )),
                Ok(n) if n < 0 => errors.push(err(
                    format!("`--retries` cannot be negative (`{v}`)"),
                    value_span(f),
                    "write a number of retries such as `--retries=3`",
                )),
                Ok(_) => {}
            },
            _ => {}
        }
    }
}

/// Go's `time.ParseDuration`, in nanoseconds (saturating): `[-+]?(<number><unit>)+` or `0`.
pub(crate) fn go_duration(s: &str) -> Result<i128, &'static str> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err("empty duration");
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err("not a number followed by a unit");
        }
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale: f64 = match unit {
            "ns" => 1.0,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err("missing unit"),
            _ => return Err("unknown unit (use ns, us, ms, s, m or h)"),
        };
        let n: f64 = num.parse().map_err(|_| "not a number followed by a unit")?;
        total += n * scale;
    }
    if total > 9.223_372_036_854_775e18 {
        return Err("out of range");
    }
    #[expect(clippy::cast_possible_truncation, reason = "range checked above")]
    let ns = total as i128;
    Ok(if neg { -ns } else { ns })
}

/// BuildKit's `parsePort` for one `EXPOSE` word: `[[ip:]host:]port[-port][/proto]`.
pub(crate) fn port_spec(raw: &str) -> Result<(), String> {
    let parts: Vec<&str> = raw.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [c] => ("", "", *c),
        [h, c] => ("", *h, *c),
        [ip @ .., h, c] => (
            &raw[..ip.iter().map(|p| p.len() + 1).sum::<usize>() - 1],
            *h,
            *c,
        ),
        [] => ("", "", ""),
    };
    let (port, proto) = container.split_once('/').unwrap_or((container, ""));
    if port.is_empty() {
        return Err("no port given".into());
    }
    if !matches!(
        proto.to_ascii_lowercase().as_str(),
        "" | "tcp" | "udp" | "sctp"
    ) {
        return Err(format!("unknown protocol `{proto}`"));
    }
    if !ip.is_empty() {
        let bare = ip
            .strip_prefix('[')
            .and_then(|i| i.strip_suffix(']'))
            .unwrap_or(ip);
        if bare.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("invalid IP address `{ip}`"));
        }
    }
    let (cs, ce) = port_range(port).map_err(|e| format!("invalid container port `{port}`: {e}"))?;
    if !host.is_empty() {
        let (hs, he) = port_range(host).map_err(|e| format!("invalid host port `{host}`: {e}"))?;
        if ce - cs != he - hs && ce != cs {
            return Err(format!(
                "the ranges of container port `{port}` and host port `{host}` differ"
            ));
        }
    }
    Ok(())
}

fn port_range(s: &str) -> Result<(i64, i64), &'static str> {
    let (start, end) = match s.split_once('-') {
        Some((a, b)) if a != b => (a, Some(b)),
        Some((a, _)) => (a, None),
        None => (s, None),
    };
    let number = |p: &str| -> Result<i64, &'static str> {
        if p.is_empty() {
            return Err("empty");
        }
        let digits = p.strip_prefix(['+', '-']).unwrap_or(p);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("not a number");
        }
        match p.parse::<i64>() {
            Ok(n) if (0..=65535).contains(&n) => Ok(n),
            _ => Err("out of range (0-65535)"),
        }
    };
    let a = number(start)?;
    let Some(end) = end else { return Ok((a, a)) };
    let b = number(end)?;
    if b < a {
        return Err("the range ends before it starts");
    }
    Ok((a, b))
}

/// moby's `signal.ParseSignal` (Linux): a non-zero number, or a signal name with or without
/// `SIG`, any case.
fn is_signal(s: &str) -> bool {
    if let Ok(n) = s.parse::<i64>() {
        return n != 0;
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    const NAMES: &[&str] = &[
        "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT",
        "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
        "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
        "RTMIN", "RTMAX",
    ];
    if NAMES.contains(&name) {
        return true;
    }
    let rt = |prefix: &str, sign: char| {
        name.strip_prefix(prefix)
            .and_then(|r| r.strip_prefix(sign))
            .and_then(|n| n.parse::<u8>().ok())
            .is_some_and(|n| (1..=15).contains(&n) && !n.to_string().starts_with('0'))
    };
    rt("RTMIN", '+') || (rt("RTMAX", '-') && !name.ends_with("-15"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_go() {
        assert_eq!(go_duration("30s"), Ok(30_000_000_000));
        assert_eq!(go_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(go_duration("0"), Ok(0));
        assert_eq!(go_duration("-2s"), Ok(-2_000_000_000));
        assert_eq!(go_duration("500\u{b5}s"), Ok(500_000));
        assert!(go_duration("bad").is_err());
        assert!(go_duration("30").is_err());
        assert!(go_duration("5d").is_err());
        assert!(go_duration("1..5s").is_err());
        assert!(go_duration("s").is_err());
    }

    #[test]
    fn ports_like_buildkit() {
        for ok in [
            "80",
            "80/tcp",
            "53/UDP",
            "8000-8010",
            "80/sctp",
            "8080:80",
            "1.2.3.4:8080:80",
            "[::1]:80:80",
            "+80",
            "0",
            "65535",
        ] {
            assert_eq!(port_spec(ok), Ok(()), "{ok}");
        }
        for bad in [
            "abc",
            "80/http",
            "65536",
            "-1",
            "/tcp",
            "90-80",
            "80-",
            "1.2.3:80:80",
            "8000-8010:80-81",
            "",
        ] {
            assert!(port_spec(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signals_like_moby() {
        for ok in [
            "SIGTERM",
            "term",
            "9",
            "SIGRTMIN+3",
            "RTMAX-1",
            "sigkill",
            "SIGRTMAX",
        ] {
            assert!(is_signal(ok), "{ok}");
        }
        for bad in ["SIGFOO", "0", "RTMIN+16", "TERMINATE", "SIGRTMAX-15"] {
            assert!(!is_signal(bad), "{bad}");
        }
    }
}
