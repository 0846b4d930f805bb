//! Amounts of CMN as people write them (`1.5`) and as the chain counts them (the smallest unit).

use commons_primitives::currency::{Balance, TOKEN_DECIMALS, TOKEN_SYMBOL};

/// An amount in CMN as a float, for metrics and charts (exact to about 15 significant digits).
pub fn as_float(amount: Balance) -> f64 {
	amount as f64 / 10f64.powi(i32::from(TOKEN_DECIMALS))
}

/// Parses a decimal CMN amount into the smallest unit, refusing more than 12 decimals.
pub fn parse_amount(text: &str) -> Result<Balance, String> {
	if text.is_empty() || text == "." {
		return Err("an amount is a number of CMN such as 10 or 0.5".into());
	}
	parse_decimal(text, u32::from(TOKEN_DECIMALS))
}

/// Parses a non-negative decimal number `text` scaled by `10^decimals` (`1.5` with 2 decimals is
/// 150), refusing more decimals than that. Errors name the text.
pub fn parse_decimal(text: &str, decimals: u32) -> Result<u128, String> {
	let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
	if whole.is_empty() && fraction.is_empty() {
		return Err(format!("`{text}` is not a number"));
	}
	let places = u32::try_from(fraction.len()).unwrap_or(u32::MAX);
	let Some(spare) = decimals.checked_sub(places) else {
		return Err(format!("`{text}` has more than {decimals} decimals"));
	};
	let digits = |part: &str| -> Result<u128, String> {
		if part.is_empty() {
			return Ok(0);
		}
		if !part.bytes().all(|byte| byte.is_ascii_digit()) {
			return Err(format!("`{text}` is not a number"));
		}
		part.parse::<u128>().map_err(|_| format!("`{text}` is too large"))
	};
	let (whole, fraction) = (digits(whole)?, digits(fraction)?);
	let too_large = || format!("`{text}` is too large");
	let unit = 10u128.checked_pow(decimals).ok_or_else(too_large)?;
	let scale = 10u128.checked_pow(spare).ok_or_else(too_large)?;
	whole
		.checked_mul(unit)
		.and_then(|units| units.checked_add(fraction.checked_mul(scale)?))
		.ok_or_else(too_large)
}

/// Formats `number / 10^decimals` without trailing zeros (`150` with 2 decimals is `1.5`).
pub fn format_decimal(number: u128, decimals: u32) -> String {
	let unit = 10u128.saturating_pow(decimals);
	let (whole, fraction) = (number / unit, number % unit);
	if fraction == 0 {
		return whole.to_string();
	}
	let width = usize::try_from(decimals).unwrap_or(0);
	let fraction = format!("{fraction:0width$}");
	format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// Formats an amount in the smallest unit as CMN.
pub fn format_amount(amount: Balance) -> String {
	format!("{} {TOKEN_SYMBOL}", format_decimal(amount, u32::from(TOKEN_DECIMALS)))
}

#[cfg(test)]
mod tests {
	use super::*;
	use commons_primitives::currency::UNIT;

	#[test]
	fn amounts_parse_in_cmn() {
		assert_eq!(parse_amount("1"), Ok(UNIT));
		assert_eq!(parse_amount("0.5"), Ok(UNIT / 2));
		assert_eq!(parse_amount("2.000000000001"), Ok(2 * UNIT + 1));
		assert_eq!(parse_amount(".25"), Ok(UNIT / 4));
	}

	#[test]
	fn bad_amounts_are_refused_with_a_reason() {
		assert!(parse_amount("").unwrap_err().contains("amount"));
		assert!(parse_amount("1.0000000000001").unwrap_err().contains("decimals"));
		assert!(parse_amount("-1").unwrap_err().contains("not a number"));
		assert!(parse_amount("1e5").unwrap_err().contains("not a number"));
		assert!(parse_amount("999999999999999999999999999999").unwrap_err().contains("too large"));
	}

	#[test]
	fn amounts_format_without_trailing_zeros() {
		assert_eq!(format_amount(UNIT), "1 CMN");
		assert_eq!(format_amount(UNIT + UNIT / 2), "1.5 CMN");
		assert_eq!(format_amount(1), "0.000000000001 CMN");
	}

	#[test]
	fn decimals_round_trip() {
		assert_eq!(parse_decimal("12.5", 7), Ok(125_000_000));
		assert_eq!(format_decimal(125_000_000, 7), "12.5");
		assert_eq!(parse_decimal("3", 0), Ok(3));
		assert!(parse_decimal("0.5", 0).is_err());
	}
}
