//! FIL amounts as Lotus reads and prints them (`types.ParseFIL` and
//! `FIL.String`): a decimal number of FIL by default, with an optional `FIL`
//! or `attoFIL`/`aFIL` suffix (any case), exact to the attoFIL; printed as the
//! shortest exact decimal followed by ` FIL`.

use fvm_shared::bigint::{BigInt, Sign};
use fvm_shared::econ::TokenAmount;

/// 1 FIL in attoFIL.
pub const FIL_PRECISION: u64 = 1_000_000_000_000_000_000;
/// Lotus refuses longer numbers.
const MAX_NUMBER_LEN: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("unrecognized suffix {0:?} in amount (use FIL or attoFIL)")]
    UnknownSuffix(String),
    #[error("amount {0:?} is too long (at most 50 characters)")]
    TooLong(String),
    #[error("failed to parse {0:?} as a decimal number")]
    NotANumber(String),
    #[error("invalid {unit} value {text:?}: not a whole number of attoFIL")]
    Fractional { unit: &'static str, text: String },
}

/// Parses an amount the way Lotus's `ParseFIL` does. Negative amounts parse
/// (as in Lotus); callers that need a positive amount check for themselves.
pub fn parse_fil(text: &str) -> Result<TokenAmount, AmountError> {
    let text = text.trim();
    let number_len = text
        .find(|c: char| !(c.is_ascii_digit() || c == '-' || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(number_len);
    let atto = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "fil" => false,
        "attofil" | "afil" => true,
        _ => return Err(AmountError::UnknownSuffix(suffix.trim().to_string())),
    };
    if number.len() > MAX_NUMBER_LEN {
        return Err(AmountError::TooLong(number.to_string()));
    }
    let not_a_number = || AmountError::NotANumber(number.to_string());
    let (negative, unsigned) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || !all_digits(frac_part) || int_part.len() + frac_part.len() == 0 {
        return Err(not_a_number());
    }
    let digits: BigInt = format!("{int_part}{frac_part}0")
        .parse()
        .map_err(|_| not_a_number())?;
    // `digits` carries one extra trailing zero (so an empty string never
    // reaches the parser): the value is digits / 10^(frac_len + 1).
    let mut scaled = digits;
    if !atto {
        scaled *= BigInt::from(FIL_PRECISION);
    }
    let divisor = BigInt::from(10u32).pow(frac_part.len() as u32 + 1);
    if &scaled % &divisor != BigInt::from(0) {
        let unit = if atto { "attoFIL" } else { "FIL" };
        return Err(AmountError::Fractional {
            unit,
            text: text.to_string(),
        });
    }
    let value = scaled / divisor;
    Ok(TokenAmount::from_atto(if negative {
        -value
    } else {
        value
    }))
}

/// The amount in FIL without a unit: `"2"`, `"0.5"`, `"0.000000000000000001"`.
pub fn fil_unitless(amount: &TokenAmount) -> String {
    let atto = amount.atto();
    let precision = BigInt::from(FIL_PRECISION);
    let magnitude = atto.magnitude();
    let whole = magnitude / precision.magnitude();
    let frac = magnitude % precision.magnitude();
    let sign = if atto.sign() == Sign::Minus { "-" } else { "" };
    if frac == Default::default() {
        return format!("{sign}{whole}");
    }
    let frac = format!("{frac:0>18}");
    format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
}

/// The amount as Lotus prints it: `"2 FIL"`.
pub fn format_fil(amount: &TokenAmount) -> String {
    format!("{} FIL", fil_unitless(amount))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fil(text: &str) -> String {
        parse_fil(text).unwrap().atto().to_string()
    }

    #[test]
    fn parses_decimal_fil_by_default() {
        assert_eq!(fil("1"), "1000000000000000000");
        assert_eq!(fil("2.5"), "2500000000000000000");
        assert_eq!(fil(".5"), "500000000000000000");
        assert_eq!(fil("5."), "5000000000000000000");
        assert_eq!(fil("0.000000000000000001"), "1");
        assert_eq!(fil("0"), "0");
        assert_eq!(fil("-1.5"), "-1500000000000000000");
    }

    #[test]
    fn accepts_lotus_suffixes_in_any_case() {
        assert_eq!(fil("1 FIL"), "1000000000000000000");
        assert_eq!(fil("1fil"), "1000000000000000000");
        assert_eq!(fil("100 attoFIL"), "100");
        assert_eq!(fil("100afil"), "100");
        assert_eq!(fil("100 AttoFil"), "100");
        assert_eq!(fil("1.000 attofil"), "1");
    }

    #[test]
    fn rejects_what_lotus_rejects() {
        assert!(matches!(
            parse_fil("1 mFIL"),
            Err(AmountError::UnknownSuffix(_))
        ));
        assert!(matches!(
            parse_fil("1e3"),
            Err(AmountError::UnknownSuffix(_))
        ));
        assert!(matches!(parse_fil(""), Err(AmountError::NotANumber(_))));
        assert!(matches!(parse_fil("."), Err(AmountError::NotANumber(_))));
        assert!(matches!(
            parse_fil("1.2.3"),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(parse_fil("--1"), Err(AmountError::NotANumber(_))));
        assert!(matches!(parse_fil("1-"), Err(AmountError::NotANumber(_))));
        assert!(matches!(
            parse_fil("0.0000000000000000001"),
            Err(AmountError::Fractional { unit: "FIL", .. })
        ));
        assert!(matches!(
            parse_fil("1.5 attofil"),
            Err(AmountError::Fractional {
                unit: "attoFIL",
                ..
            })
        ));
        assert!(matches!(
            parse_fil(&"1".repeat(51)),
            Err(AmountError::TooLong(_))
        ));
    }

    #[test]
    fn prints_the_shortest_exact_fil_decimal() {
        let show = |atto: i128| format_fil(&TokenAmount::from_atto(atto));
        assert_eq!(show(0), "0 FIL");
        assert_eq!(show(1), "0.000000000000000001 FIL");
        assert_eq!(show(2_000_000_000_000_000_000), "2 FIL");
        assert_eq!(show(2_500_000_000_000_000_000), "2.5 FIL");
        assert_eq!(show(-1_500_000_000_000_000_000), "-1.5 FIL");
        assert_eq!(show(1_000_000_000_000_000_000_000), "1000 FIL");
    }

    #[test]
    fn printing_then_parsing_is_exact() {
        for atto in [
            1i128,
            7,
            999_999_999_999_999_999,
            123_456_789_012_345_678_901_234,
        ] {
            let amount = TokenAmount::from_atto(atto);
            assert_eq!(parse_fil(&format_fil(&amount)).unwrap(), amount);
        }
    }
}
