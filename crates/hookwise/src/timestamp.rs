//! Timestamp formats senders use.

/// How a sender writes its timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampFormat {
    /// Integer Unix seconds (Stripe, Slack, Standard Webhooks, Zoom, Paddle).
    UnixSeconds,
    /// Integer Unix milliseconds (HubSpot v3, Linear).
    UnixMillis,
    /// RFC 3339, e.g. `2023-05-01T12:34:56.123456789Z` (Twitch).
    Rfc3339,
}

impl TimestampFormat {
    /// Parses a timestamp to Unix seconds. `None` when malformed or out of range.
    pub fn parse(self, raw: &[u8]) -> Option<i64> {
        match self {
            Self::UnixSeconds => parse_int(raw),
            Self::UnixMillis => parse_int(raw).map(|ms| ms.div_euclid(1000)),
            Self::Rfc3339 => parse_rfc3339(raw),
        }
    }

    /// Formats Unix seconds the way the sender writes them.
    pub fn format(self, unix: i64) -> String {
        match self {
            Self::UnixSeconds => unix.to_string(),
            Self::UnixMillis => unix.saturating_mul(1000).to_string(),
            Self::Rfc3339 => format_rfc3339(unix),
        }
    }
}

/// A decimal integer with an optional leading `-`; at most 19 digits, no spaces.
fn parse_int(raw: &[u8]) -> Option<i64> {
    let (neg, digits) = match raw.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, raw),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    // No sender writes leading zeros, and accepting them would let a byte move
    // between the timestamp and an adjacent signed part (HubSpot signs
    // `…{body}{timestamp}` with no separator).
    if digits.len() > 1 && digits[0] == b'0' {
        return None;
    }
    // One pass: at most 19 digits fit a u64, so only the final conversion can overflow.
    let mut v: u64 = 0;
    let mut eights = digits.chunks_exact(8);
    for c in &mut eights {
        v = v * 100_000_000 + eight_digits(c)?;
    }
    for d in eights.remainder() {
        let x = d.wrapping_sub(b'0');
        if x > 9 {
            return None;
        }
        v = v * 10 + u64::from(x);
    }
    let v = i64::try_from(v).ok()?;
    Some(if neg { -v } else { v })
}

/// Eight ASCII digits as a number, computed in one register (the
/// combination step of simdjson's `parse_eight_digits_unrolled`): a Unix
/// timestamp is ten digits, and a digit at a time is a chain of ten
/// dependent multiply-adds. `None` unless all eight are `0`–`9`.
fn eight_digits(c: &[u8]) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH_NIBBLES: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    let w = u64::from_le_bytes(<[u8; 8]>::try_from(c).ok()?);
    // Every byte 0x30..=0x3f, and still so after adding 6 (so ≤ 0x39); the
    // first test keeps the addition from carrying between bytes.
    let digits =
        w & HIGH_NIBBLES == ZEROS && w.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES == ZEROS;
    if !digits {
        return None;
    }
    // Little-endian: the first (most significant) digit is the low byte.
    let mut v = w - ZEROS;
    v = v * 10 + (v >> 8); // pairs, in bytes 0, 2, 4, 6
    let pairs = |x: u64| x & 0x0000_00ff_0000_00ff;
    Some(
        (pairs(v)
            .wrapping_mul(100 + (1_000_000 << 32))
            .wrapping_add(pairs(v >> 16).wrapping_mul(1 + (10_000 << 32))))
            >> 32,
    )
}

/// A fixed-width field of an RFC 3339 date (leading zeros expected).
fn num(raw: &[u8]) -> Option<i64> {
    if raw.is_empty() || raw.len() > 4 || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(raw.iter().fold(0, |v, d| v * 10 + i64::from(d - b'0')))
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`; fractions are truncated to seconds.
fn parse_rfc3339(raw: &[u8]) -> Option<i64> {
    if raw.len() < 20 || raw.len() > 64 {
        return None;
    }
    let (date, rest) = raw.split_at(10);
    if date[4] != b'-'
        || date[7] != b'-'
        || !matches!(rest[0], b'T' | b't' | b' ')
        || rest[3] != b':'
        || rest[6] != b':'
    {
        return None;
    }
    let y = num(&date[0..4])?;
    let mo = num(&date[5..7])?;
    let d = num(&date[8..10])?;
    let h = num(&rest[1..3])?;
    let mi = num(&rest[4..6])?;
    let s = num(&rest[7..9])?;
    let mut tail = &rest[9..];
    if let Some((b'.', frac)) = tail.split_first() {
        let n = frac.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        tail = &frac[n..];
    }
    let offset = match tail {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), oh1, oh2, b':', om1, om2] => {
            let v = num(&[*oh1, *oh2])? * 3600 + num(&[*om1, *om2])? * 60;
            if *sign == b'+' { v } else { -v }
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn format_rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000000000Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(
            TimestampFormat::UnixSeconds.parse(b"1614265330"),
            Some(1_614_265_330)
        );
        assert_eq!(TimestampFormat::UnixSeconds.parse(b"-5"), Some(-5));
        assert_eq!(TimestampFormat::UnixSeconds.parse(b"0"), Some(0));
        // Odd and even digit counts, up to the largest i64.
        for n in 1..=18u32 {
            let v = 10i64.pow(n) - 7;
            assert_eq!(
                TimestampFormat::UnixSeconds.parse(v.to_string().as_bytes()),
                Some(v)
            );
        }
        assert_eq!(
            TimestampFormat::UnixSeconds.parse(b"9223372036854775807"),
            Some(i64::MAX)
        );
        for bad in [
            &b""[..],
            b"9999999999999999999",
            b"12a4",
            b"1234567890a",
            b"a",
            b"12/4",
            b"-",
            b"+5",
            b" 5",
            b"5 ",
            b"1e9",
            b"99999999999999999999",
            b"9223372036854775808",
            b"01700000000",
            b"-05",
        ] {
            assert_eq!(TimestampFormat::UnixSeconds.parse(bad), None, "{bad:?}");
        }
        assert_eq!(TimestampFormat::UnixMillis.parse(b"15000000"), Some(15_000));
        assert_eq!(TimestampFormat::UnixMillis.parse(b"-1"), Some(-1));
    }

    #[test]
    fn eight_digits_agrees_with_str_parse() {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let s = format!("{:08}", x % 100_000_000);
            assert_eq!(eight_digits(s.as_bytes()), s.parse().ok(), "{s}");
            // One byte off the digits, at every position.
            let mut b = s.clone().into_bytes();
            let pos = usize::try_from(x % 8).unwrap();
            b[pos] =
                [b'/', b':', b' ', b'a', 0xb0, 0x00, b'-', b'?'][usize::try_from(x >> 61).unwrap()];
            assert_eq!(eight_digits(&b), None, "{b:?}");
        }
        assert_eq!(eight_digits(b"00000000"), Some(0));
        assert_eq!(eight_digits(b"99999999"), Some(99_999_999));
        assert_eq!(eight_digits(b"12345678"), Some(12_345_678));
    }

    #[test]
    fn rfc3339() {
        let f = TimestampFormat::Rfc3339;
        assert_eq!(f.parse(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            f.parse(b"2023-05-01T12:34:56.123456789Z"),
            Some(1_682_944_496)
        );
        assert_eq!(f.parse(b"2023-05-01T14:34:56+02:00"), Some(1_682_944_496));
        assert_eq!(f.parse(b"2024-02-29T00:00:00Z"), Some(1_709_164_800));
        for bad in [
            &b"2023-02-29T00:00:00Z"[..],
            b"2023-13-01T00:00:00Z",
            b"2023-05-01T12:34:56",
            b"2023-05-01T12:34:56.Z",
            b"x023-05-01T12:34:56Z",
        ] {
            assert_eq!(f.parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        for t in [0, 1_682_944_496, -86_401, 4_102_444_800] {
            assert_eq!(f.parse(f.format(t).as_bytes()), Some(t));
        }
    }
}
