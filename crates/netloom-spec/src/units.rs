//! Quantities with units, as link keys take them: durations (`20ms`),
//! percentages (`0.1%`), rates (`100mbit`) and queue sizes (`1000`, `64kb`).
//!
//! Numbers are decimal (`0.5ms`), never in exponent form, and are converted
//! exactly (no floating point): a duration to nanoseconds, a percentage to
//! parts per million (rounded to the nearest), a rate to bits per second
//! (`1kbit` = 1000 bit/s), a byte size to bytes (`1kb` = 1024 bytes, as `tc`
//! reads sizes). Units are case-insensitive. Each function returns the value
//! or the message to show, which names the key and the value as written.
//! The CLI and the API can use the same functions for live changes
//! (`netloom link set r1:eth1 --delay 80ms`), so units mean the same
//! everywhere.

use netloom_model::{Ppm, QueueLimit};

/// The longest delay or jitter accepted.
pub const MAX_DURATION_NS: u64 = 60_000_000_000;
/// The largest rate accepted (1 Tbit/s).
pub const MAX_RATE_BPS: u64 = 1_000_000_000_000;
/// The largest byte queue accepted (4 GiB).
const MAX_QUEUE_BYTES: u128 = 1 << 32;

pub const DURATION_UNITS: &str = "`us`, `ms` or `s`";
pub const RATE_UNITS: &str = "`bit`, `kbit`, `mbit` or `gbit`";

/// A number and its unit as written: `-0.5 ms` → negative, "0.5", "ms".
struct Quantity<'a> {
    negative: bool,
    number: &'a str,
    unit: String,
}

fn split(text: &str) -> Option<Quantity<'_>> {
    let t = text.trim();
    let (negative, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let number = &rest[..end];
    if !number.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(Quantity {
        negative,
        number,
        unit: rest[end..].trim().to_lowercase(),
    })
}

/// `digits[.digits]` as numerator and denominator (a power of ten).
fn decimal(number: &str) -> Option<(u128, u128)> {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if frac.contains('.') || int.len() + frac.len() > 24 {
        return None;
    }
    let digits = format!("{int}{frac}");
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let num = digits.parse::<u128>().ok()?;
    Some((num, 10u128.pow(frac.len() as u32)))
}

/// `number × unit`, rounded to the nearest integer.
fn scaled(number: &str, unit: u128) -> Option<u128> {
    let (num, den) = decimal(number)?;
    Some((num * unit + den / 2) / den)
}

/// A duration (`delay`, `jitter`): 0 to 60 s, in nanoseconds.
pub fn duration(key: &str, text: &str) -> Result<u64, String> {
    let like = || format!("`{key}` must be a duration like `20ms`, found `{text}`");
    let q = split(text).ok_or_else(like)?;
    let unit: u128 = match q.unit.as_str() {
        "" => {
            return Err(format!(
                "`{key}: {text}` needs a unit: write `{}ms` (durations take {DURATION_UNITS})",
                text.trim()
            ))
        }
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        other => {
            let hint = match other {
                "ns" => " (the wire's resolution is microseconds)",
                "sec" | "secs" | "second" | "seconds" => "; did you mean `s`?",
                "msec" | "msecs" | "millisecond" | "milliseconds" => "; did you mean `ms`?",
                "usec" | "usecs" | "microsecond" | "microseconds" => "; did you mean `us`?",
                _ => "",
            };
            return Err(format!(
                "unknown unit `{other}` in `{key}: {text}`; durations take {DURATION_UNITS}{hint}"
            ));
        }
    };
    let ns = scaled(q.number, unit).ok_or_else(like)?;
    if q.negative && ns > 0 {
        return Err(format!("{key} `{text}` is negative; it must be 0 or more"));
    }
    if ns > u128::from(MAX_DURATION_NS) {
        return Err(format!("{key} `{text}` is more than the maximum of 60s"));
    }
    Ok(ns as u64)
}

/// A percentage (`loss`, `duplicate`, `corrupt`, Gilbert `p`/`r`/`h`/`k`):
/// `0%` to `100%`, in parts per million.
pub fn percent(key: &str, text: &str) -> Result<Ppm, String> {
    let like = || format!("`{key}` must be a percentage like `0.1%`, found `{text}`");
    let q = split(text).ok_or_else(like)?;
    match q.unit.as_str() {
        "%" => {}
        "" => {
            return Err(format!(
                "`{key}: {text}` needs a `%`: write `{}%`",
                text.trim()
            ))
        }
        _ => return Err(like()),
    }
    let ppm = scaled(q.number, 10_000).ok_or_else(like)?;
    if (q.negative && ppm > 0) || ppm > 1_000_000 {
        return Err(format!("{key} `{text}` is out of range 0%..=100%"));
    }
    Ok(Ppm(ppm as u32))
}

/// A rate (`rate`), more than 0, in bits per second.
pub fn rate(key: &str, text: &str) -> Result<u64, String> {
    let like = || format!("`{key}` must be a rate like `100mbit`, found `{text}`");
    let q = split(text).ok_or_else(like)?;
    let unit: u128 = match q.unit.as_str() {
        "" => {
            return Err(format!(
                "`{key}: {text}` needs a unit: write `{}mbit` (rates take {RATE_UNITS})",
                text.trim()
            ))
        }
        "bit" => 1,
        "kbit" => 1_000,
        "mbit" => 1_000_000,
        "gbit" => 1_000_000_000,
        other => {
            let hint = match other {
                "bps" | "b/s" | "bit/s" => format!("; did you mean `{}bit`?", q.number),
                "kbps" | "kb/s" | "kbit/s" => format!("; did you mean `{}kbit`?", q.number),
                "mbps" | "mb/s" | "mbit/s" => format!("; did you mean `{}mbit`?", q.number),
                "gbps" | "gb/s" | "gbit/s" => format!("; did you mean `{}gbit`?", q.number),
                _ => String::new(),
            };
            return Err(format!(
                "unknown unit `{other}` in `{key}: {text}`; rates take {RATE_UNITS} (bits per second){hint}"
            ));
        }
    };
    let bps = scaled(q.number, unit).ok_or_else(like)?;
    if q.negative || bps == 0 {
        return Err(format!("{key} `{text}` must be more than 0"));
    }
    if bps > u128::from(MAX_RATE_BPS) {
        return Err(format!(
            "{key} `{text}` is more than the maximum of 1000gbit"
        ));
    }
    Ok(bps as u64)
}

/// A queue limit (`queue`): an integer is packets, a size with `b`, `kb`
/// or `mb` is bytes. More than 0.
pub fn queue(key: &str, text: &str) -> Result<QueueLimit, String> {
    let like = || {
        format!(
            "`{key}` must be a number of packets (`1000`) or a size in bytes (`64kb`; units `b`, `kb`, `mb`), found `{text}`"
        )
    };
    let q = split(text).ok_or_else(like)?;
    let limit = match q.unit.as_str() {
        "" | "p" | "packets" => {
            if q.number.contains('.') {
                return Err(format!(
                    "{key} `{text}` is a number of packets and must be a whole number"
                ));
            }
            let n = scaled(q.number, 1).ok_or_else(like)?;
            if !q.negative && n > u128::from(u32::MAX) {
                return Err(format!(
                    "{key} `{text}` is more than the maximum of {} packets",
                    u32::MAX
                ));
            }
            QueueLimit::Packets(n as u32)
        }
        "b" | "kb" | "mb" => {
            let unit = match q.unit.as_str() {
                "b" => 1,
                "kb" => 1024,
                _ => 1024 * 1024,
            };
            let n = scaled(q.number, unit).ok_or_else(like)?;
            if !q.negative && n > MAX_QUEUE_BYTES {
                return Err(format!("{key} `{text}` is more than the maximum of 4096mb"));
            }
            QueueLimit::Bytes(n as u64)
        }
        _ => return Err(like()),
    };
    if q.negative || matches!(limit, QueueLimit::Packets(0) | QueueLimit::Bytes(0)) {
        return Err(format!("{key} `{text}` must be more than 0"));
    }
    Ok(limit)
}

/// A round-trip time in milliseconds (`sites_latency` files), more than 0
/// and at most 120 s, in nanoseconds.
pub fn rtt_ms(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let like = || format!("the RTT `{t}` is not a number of milliseconds (like `72.5`)");
    let q = split(t).ok_or_else(like)?;
    if !q.unit.is_empty() && q.unit != "ms" {
        return Err(like());
    }
    let ns = scaled(q.number, 1_000_000).ok_or_else(like)?;
    if q.negative || ns == 0 {
        return Err(format!("the RTT `{t}` must be more than 0 ms"));
    }
    if ns > 2 * u128::from(MAX_DURATION_NS) {
        return Err(format!(
            "the RTT `{t}` is more than the maximum of 120000 ms"
        ));
    }
    Ok(ns as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("delay", "20ms"), Ok(20_000_000));
        assert_eq!(duration("delay", "0.5ms"), Ok(500_000));
        assert_eq!(duration("delay", "500us"), Ok(500_000));
        assert_eq!(duration("delay", "500µs"), Ok(500_000));
        assert_eq!(duration("delay", "1.5 s"), Ok(1_500_000_000));
        assert_eq!(duration("delay", "60s"), Ok(MAX_DURATION_NS));
        assert_eq!(duration("delay", "0ms"), Ok(0));
        assert_eq!(duration("delay", "-0ms"), Ok(0));
        assert_eq!(duration("delay", "2MS"), Ok(2_000_000));
        assert_eq!(duration("delay", "0.0001us"), Ok(0));
        assert!(duration("delay", "-5ms").unwrap_err().contains("negative"));
        assert!(duration("delay", "61s").unwrap_err().contains("60s"));
        assert!(duration("delay", "20")
            .unwrap_err()
            .contains("needs a unit"));
        assert!(duration("delay", "5 parsecs")
            .unwrap_err()
            .contains("unknown unit `parsecs`"));
        assert!(duration("delay", "fast").is_err());
        assert!(duration("delay", "1.2.3ms").is_err());
        assert!(duration("delay", "1e3ms").is_err());
        assert!(duration("delay", ".ms").is_err());
        assert!(duration("delay", "99999999999999999999999999999s").is_err());
    }

    #[test]
    fn percents() {
        assert_eq!(percent("loss", "0.1%"), Ok(Ppm(1_000)));
        assert_eq!(percent("loss", "100%"), Ok(Ppm(1_000_000)));
        assert_eq!(percent("loss", "0%"), Ok(Ppm(0)));
        assert_eq!(percent("loss", "0.00005%"), Ok(Ppm(1)));
        assert_eq!(percent("loss", "0.00004%"), Ok(Ppm(0)));
        assert_eq!(percent("loss", "12.5 %"), Ok(Ppm(125_000)));
        assert!(percent("loss", "150%")
            .unwrap_err()
            .contains("out of range"));
        assert!(percent("loss", "-1%").unwrap_err().contains("out of range"));
        assert!(percent("loss", "5").unwrap_err().contains("needs a `%`"));
        assert!(percent("loss", "5 percent").is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(rate("rate", "100mbit"), Ok(100_000_000));
        assert_eq!(rate("rate", "1.5gbit"), Ok(1_500_000_000));
        assert_eq!(rate("rate", "64kbit"), Ok(64_000));
        assert_eq!(rate("rate", "9600bit"), Ok(9_600));
        assert_eq!(rate("rate", "10Mbit"), Ok(10_000_000));
        let e = rate("rate", "10mbps").unwrap_err();
        assert!(e.contains("did you mean `10mbit`?"), "{e}");
        assert!(rate("rate", "0mbit").unwrap_err().contains("more than 0"));
        assert!(rate("rate", "0.0001bit")
            .unwrap_err()
            .contains("more than 0"));
        assert!(rate("rate", "100").unwrap_err().contains("needs a unit"));
        assert!(rate("rate", "2000gbit").is_err());
    }

    #[test]
    fn queues() {
        assert_eq!(queue("queue", "1000"), Ok(QueueLimit::Packets(1000)));
        assert_eq!(queue("queue", "64kb"), Ok(QueueLimit::Bytes(65_536)));
        assert_eq!(queue("queue", "1500b"), Ok(QueueLimit::Bytes(1500)));
        assert_eq!(queue("queue", "1mb"), Ok(QueueLimit::Bytes(1 << 20)));
        assert!(queue("queue", "0").is_err());
        assert!(queue("queue", "1.5").is_err());
        assert!(queue("queue", "-3").is_err());
        assert!(queue("queue", "10gb").is_err());
        assert!(queue("queue", "99999999999").is_err());
    }

    #[test]
    fn rtts() {
        assert_eq!(rtt_ms("72.5"), Ok(72_500_000));
        assert_eq!(rtt_ms(" 212 "), Ok(212_000_000));
        assert!(rtt_ms("0").is_err());
        assert!(rtt_ms("-3").is_err());
        assert!(rtt_ms("fast").is_err());
        assert!(rtt_ms("200000").is_err());
    }
}
