//! What people type, made comparable: full-width forms folded to ASCII, Latin letters
//! lowercased, and numbers read in Arabic or Chinese numerals.

/// Folds full-width ASCII (`３００`, `ＥＵ`) and the ideographic space to their ASCII
/// forms and lowercases Latin letters; everything else is kept as typed.
pub fn normalize(raw: &str) -> String {
    raw.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '￥' => '¥',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

fn digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' => 0,
        '一' | '壹' => 1,
        '二' | '两' | '贰' => 2,
        '三' | '叁' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

fn unit(c: char) -> Option<u32> {
    Some(match c {
        '十' | '拾' => 10,
        '百' | '佰' => 100,
        '千' | '仟' => 1000,
        '万' => 10_000,
        _ => return None,
    })
}

/// A number at the start of `chars`: Arabic digits (an optional `.5` kept as tenths)
/// or Chinese numerals (`三百`, `两百五`, `一千二`, `十五`). Returns the value in tenths
/// and how many characters it took; `None` when no number starts here.
pub fn number_at(chars: &[char]) -> Option<(u32, usize)> {
    let first = *chars.first()?;
    if first.is_ascii_digit() {
        let mut value: u32 = 0;
        let mut i = 0;
        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
            value = value.checked_mul(10)?.checked_add(d)?;
            i += 1;
        }
        let mut tenths = value.checked_mul(10)?;
        if chars.get(i) == Some(&'.') {
            if let Some(d) = chars.get(i + 1).and_then(|c| c.to_digit(10)) {
                tenths = tenths.checked_add(d)?;
                i += 2;
                // further decimals are dropped
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
            }
        }
        return Some((tenths, i));
    }
    chinese_at(chars).map(|(v, n)| (v.saturating_mul(10), n))
}

/// Chinese numerals: `三百` 300, `三百五` 350 (the colloquial tail), `一千零五` 1005,
/// `十八` 18, `两万` 20,000.
fn chinese_at(chars: &[char]) -> Option<(u32, usize)> {
    let mut total: u32 = 0;
    let mut section: u32 = 0;
    let mut pending: Option<u32> = None;
    let mut last_unit = 0;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if let Some(d) = digit(c) {
            if pending.is_some() && d != 0 {
                break; // two digits in a row: not a numeral we read
            }
            pending = if d == 0 { pending } else { Some(d) };
            i += 1;
        } else if let Some(u) = unit(c) {
            if u == 10_000 {
                let s = section.checked_add(pending.take().unwrap_or(0))?;
                total = total.checked_add(s.checked_mul(u)?)?;
                section = 0;
            } else {
                // `十` alone means ten
                let d = pending.take().unwrap_or(if u == 10 { 1 } else { 0 });
                if d == 0 && u != 10 {
                    break;
                }
                section = section.checked_add(d.checked_mul(u)?)?;
            }
            last_unit = u;
            i += 1;
        } else {
            break;
        }
    }
    if i == 0 {
        return None;
    }
    if let Some(d) = pending {
        // `三百五` is 350: a bare digit after a unit counts one unit lower
        let tail = match last_unit {
            100 | 1000 | 10_000 if !(i >= 2 && chars[i - 2] == '零') => d * (last_unit / 10),
            _ => d,
        };
        section = section.checked_add(tail)?;
    }
    Some((total.checked_add(section)?, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Option<(u32, usize)> {
        number_at(&s.chars().collect::<Vec<_>>())
    }

    #[test]
    fn numbers_read_in_both_scripts() {
        assert_eq!(num("300元"), Some((3000, 3)));
        assert_eq!(num("37.5码"), Some((375, 4)));
        assert_eq!(num("三百"), Some((3000, 2)));
        assert_eq!(num("三百五"), Some((3500, 3)));
        assert_eq!(num("两百"), Some((2000, 2)));
        assert_eq!(num("一千零五"), Some((10050, 4)));
        assert_eq!(num("十五"), Some((150, 2)));
        assert_eq!(num("两千五百"), Some((25000, 4)));
        assert_eq!(num("鞋"), None);
        assert_eq!(num("99999999999999"), None);
    }

    #[test]
    fn full_width_folds_to_ascii() {
        assert_eq!(normalize("３００元 ＥＵ３８"), "300元 eu38");
    }
}
