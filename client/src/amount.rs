//! Amounts of CMN as people write them (`1.5`) and as the chain counts them (the smallest unit).

use commons_runtime::{
	currency::{TOKEN_DECIMALS, TOKEN_SYMBOL, UNIT},
	Balance,
};

/// Parses a decimal CMN amount into the smallest unit, refusing more than 12 decimals.
pub fn parse_amount(text: &str) -> Result<Balance, String> {
	let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
	if whole.is_empty() && fraction.is_empty() {
		return Err("an amount is a number of CMN such as 10 or 0.5".into());
	}
	if fraction.len() > usize::from(TOKEN_DECIMALS) {
		return Err(format!("CMN has {TOKEN_DECIMALS} decimals; `{text}` has more"));
	}
	let digits = |part: &str| -> Result<Balance, String> {
		if part.is_empty() {
			return Ok(0);
		}
		if !part.bytes().all(|byte| byte.is_ascii_digit()) {
			return Err(format!("`{text}` is not a number"));
		}
		part.parse::<Balance>().map_err(|_| format!("`{text}` is too large"))
	};
	// The fraction has at most 12 digits, checked above.
	let scale = 10u128.pow(u32::from(TOKEN_DECIMALS) - fraction.len() as u32);
	let (whole, fraction) = (digits(whole)?, digits(fraction)?);
	whole
		.checked_mul(UNIT)
		.and_then(|units| units.checked_add(fraction.checked_mul(scale)?))
		.ok_or_else(|| format!("`{text}` is too large"))
}

/// Formats an amount in the smallest unit as CMN.
pub fn format_amount(amount: Balance) -> String {
	let whole = amount / UNIT;
	let fraction = amount % UNIT;
	if fraction == 0 {
		return format!("{whole} {TOKEN_SYMBOL}");
	}
	let fraction = format!("{fraction:012}");
	format!("{whole}.{} {TOKEN_SYMBOL}", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
	use super::*;

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
}
