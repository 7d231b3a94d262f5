//! The rules file (`rules.gramrec`, docs/FORMAT.md): a [`RuleSet`] in the
//! factor file's frame — the same header, checksummed 64-byte-aligned
//! sections and deflate — under its own magic bytes and version.
//!
//! Sections: `META` (`key=value` lines: baskets, min_count, min_confidence,
//! max_len, items, rules), `IDS2` (the item IDs, front-coded as in factor
//! files), `ICNT` (baskets per item, varints), `RULE` (per rule: antecedent
//! length, its items as ascending gaps, the consequent, the rule's count and
//! the antecedent's count, all varints), `INFO` (optional names, links and
//! images), `END`. Figures are never stored: they are computed from the
//! counts as Spark computes them.

use super::frame::{self, FileKind, Section};
use super::varint::{self, Reader};
use super::{corrupt, ids, FormatError, ItemInfo, TAG_END, TAG_IDS_V2, TAG_INFO, TAG_META};
use crate::rules::{Rule, RuleSet};

/// The first eight bytes of every rules file.
pub const RULES_MAGIC: [u8; 8] = *b"GRRULES\0";
/// The rules format version this crate writes and the newest it reads.
pub const RULES_VERSION: u32 = 1;
const KIND: FileKind = FileKind { magic: RULES_MAGIC, version: RULES_VERSION };

/// Section tag: baskets per item.
pub const TAG_ITEM_COUNTS: [u8; 4] = *b"ICNT";
/// Section tag: the rules.
pub const TAG_RULES: [u8; 4] = *b"RULE";

impl RuleSet {
    /// The file's sections, `END` last.
    pub fn sections(&self) -> Vec<Section> {
        let mut meta = format!(
            "baskets={}\nmin_count={}\nmin_confidence={}\nitems={}\nrules={}\n",
            self.baskets,
            self.min_count,
            self.min_confidence,
            self.items.len(),
            self.rules.len()
        );
        if let Some(n) = self.max_len {
            meta.push_str(&format!("max_len={n}\n"));
        }
        let mut counts = Vec::new();
        for &c in &self.item_counts {
            varint::put(&mut counts, c);
        }
        let mut rules = Vec::new();
        for r in &self.rules {
            varint::put(&mut rules, r.antecedent.len() as u64);
            let mut prev = 0u64;
            for (k, &a) in r.antecedent.iter().enumerate() {
                varint::put(&mut rules, if k == 0 { u64::from(a) } else { u64::from(a) - prev });
                prev = u64::from(a);
            }
            varint::put(&mut rules, u64::from(r.consequent));
            varint::put(&mut rules, r.count);
            varint::put(&mut rules, r.antecedent_count);
        }
        let mut sections = vec![
            (TAG_META, meta.into_bytes()),
            (TAG_IDS_V2, ids::encode(&self.items)),
            (TAG_ITEM_COUNTS, counts),
            (TAG_RULES, rules),
        ];
        if let Some(info) = self.info.as_ref().filter(|i| !i.is_empty()) {
            sections.push((TAG_INFO, info.encode(self.items.len())));
        }
        sections.push((TAG_END, Vec::new()));
        sections
    }

    /// The serialised file; fails (as `InvalidInput`) when the set is inconsistent.
    pub fn to_bytes(&self) -> std::io::Result<Vec<u8>> {
        self.validate().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
        let mut out = Vec::new();
        frame::write_frame_as(&mut out, KIND, &self.sections())?;
        Ok(out)
    }

    /// Parses and validates a rules file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        Self::decode(bytes).map_err(|e| match e {
            FormatError::NotAFactorFile if bytes.starts_with(&super::MAGIC) => {
                FormatError::RulesFile("this is a factor file, not a rules file (gramrec rules writes those)".into())
            }
            FormatError::NotAFactorFile => FormatError::RulesFile("not a gramrec rules file (bad magic bytes)".into()),
            e => FormatError::RulesFile(e.to_string().replacen("factor file", "rules file", 1)),
        })
    }

    fn decode(bytes: &[u8]) -> Result<Self, FormatError> {
        let (_, found) = frame::read_frame_as(bytes, KIND)?;
        let get = |tag: [u8; 4]| found.iter().find(|(t, _)| *t == tag).map(|(_, p)| p.as_ref());
        let need = |tag: [u8; 4], name: &'static str| get(tag).ok_or(FormatError::MissingSection(name));
        let meta = std::str::from_utf8(need(TAG_META, "META")?).map_err(|_| corrupt("metadata is not UTF-8"))?;
        let field = |key: &str| -> Result<&str, FormatError> {
            meta.lines()
                .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
                .ok_or_else(|| corrupt(format!("rules metadata has no '{key}'")))
        };
        let number = |key: &str| -> Result<u64, FormatError> {
            field(key)?.parse().map_err(|_| corrupt(format!("rules metadata '{key}' is not a count")))
        };
        let items = ids::decode(need(TAG_IDS_V2, "IDS2")?)?;
        let bad = |what: &str| corrupt(format!("the {what} section is malformed"));
        let mut r = Reader::new(need(TAG_ITEM_COUNTS, "ICNT")?);
        let item_counts =
            (0..items.len()).map(|_| r.varint().ok_or_else(|| bad("ICNT"))).collect::<Result<Vec<_>, _>>()?;
        if r.remaining() != 0 {
            return Err(bad("ICNT"));
        }
        let declared = usize::try_from(number("rules")?).map_err(|_| bad("RULE"))?;
        let payload = need(TAG_RULES, "RULE")?;
        // Every rule takes at least five bytes: no count beyond that is believed.
        if declared > payload.len() / 5 {
            return Err(bad("RULE"));
        }
        let mut r = Reader::new(payload);
        let mut rules = Vec::with_capacity(declared);
        for _ in 0..declared {
            let n = r.len().filter(|&n| n <= r.remaining()).ok_or_else(|| bad("RULE"))?;
            let mut antecedent = Vec::with_capacity(n);
            let mut prev = 0u64;
            for k in 0..n {
                let v = r.varint().ok_or_else(|| bad("RULE"))?;
                let item = if k == 0 { v } else { prev.checked_add(v).ok_or_else(|| bad("RULE"))? };
                antecedent.push(u32::try_from(item).map_err(|_| bad("RULE"))?);
                prev = item;
            }
            let consequent = r.varint().and_then(|v| u32::try_from(v).ok()).ok_or_else(|| bad("RULE"))?;
            let count = r.varint().ok_or_else(|| bad("RULE"))?;
            let antecedent_count = r.varint().ok_or_else(|| bad("RULE"))?;
            rules.push(Rule { antecedent, consequent, count, antecedent_count });
        }
        if r.remaining() != 0 {
            return Err(bad("RULE"));
        }
        let max_len = match field("max_len") {
            Ok(v) => Some(v.parse().map_err(|_| corrupt("rules metadata 'max_len' is not a count"))?),
            Err(_) => None,
        };
        let set = RuleSet {
            baskets: number("baskets")?,
            min_count: number("min_count")?,
            min_confidence: field("min_confidence")?
                .parse()
                .map_err(|_| corrupt("rules metadata 'min_confidence' is not a number"))?,
            max_len,
            info: get(TAG_INFO).map(ItemInfo::decode).transpose()?.filter(|i| !i.is_empty()),
            items,
            item_counts,
            rules,
        };
        if number("items")? != set.items.len() as u64 {
            return Err(corrupt("rules metadata 'items' does not match the IDs"));
        }
        set.validate()?;
        Ok(set)
    }

    /// Checks that the counts and indices are consistent, so every figure is
    /// a finite number between the bounds its definition gives.
    pub fn validate(&self) -> Result<(), FormatError> {
        let n = self.items.len();
        if self.item_counts.len() != n {
            return Err(corrupt("one basket count per item is needed"));
        }
        if !(0.0..=1.0).contains(&self.min_confidence) {
            return Err(corrupt("min_confidence is outside 0..=1"));
        }
        if self.item_counts.iter().any(|&c| c == 0 || c > self.baskets) {
            return Err(corrupt("an item's basket count is 0 or more than the baskets"));
        }
        if let Some(info) = &self.info {
            info.validate(n)?;
        }
        for (k, r) in self.rules.iter().enumerate() {
            let bad = |what: &str| Err(corrupt(format!("rule {k}: {what}")));
            if r.antecedent.is_empty() || r.antecedent.iter().any(|&a| a as usize >= n) || r.consequent as usize >= n {
                return bad("an item index is out of range or the antecedent is empty");
            }
            if r.antecedent.windows(2).any(|w| w[0] >= w[1]) || r.antecedent.contains(&r.consequent) {
                return bad("the antecedent is not ascending, repeats an item or holds the consequent");
            }
            if r.count == 0 || r.count > r.antecedent_count || r.antecedent_count > self.baskets {
                return bad("its counts are inconsistent");
            }
            if r.count > self.item_counts[r.consequent as usize] {
                return bad("it counts more baskets than its consequent is in");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> RuleSet {
        RuleSet {
            items: vec!["bread".into(), "butter".into(), "milk".into()],
            item_counts: vec![4, 3, 2],
            baskets: 5,
            min_count: 2,
            min_confidence: 0.5,
            max_len: Some(3),
            rules: vec![
                Rule { antecedent: vec![1], consequent: 0, count: 3, antecedent_count: 3 },
                Rule { antecedent: vec![0, 1], consequent: 2, count: 2, antecedent_count: 3 },
            ],
            info: None,
        }
    }

    #[test]
    fn round_trips_and_computes_spark_s_figures() {
        let s = set();
        let back = RuleSet::from_bytes(&s.to_bytes().unwrap()).unwrap();
        assert_eq!(back, s);
        let r = &back.rules[1];
        assert_eq!(back.confidence(r), 2.0 / 3.0);
        assert_eq!(back.support(r), 2.0 / 5.0);
        assert_eq!(back.lift(r), (2.0 / 3.0) / (2.0 / 5.0));
        let goes = back.for_item(1, 10);
        assert_eq!(goes.len(), 1, "only single-item antecedents");
        assert_eq!((goes[0].item.as_str(), goes[0].confidence), ("bread", 1.0));
    }

    #[test]
    fn damaged_or_inconsistent_files_are_refused() {
        let bytes = set().to_bytes().unwrap();
        for at in [9, 70, bytes.len() - 70] {
            let mut b = bytes.clone();
            b[at] ^= 0x10;
            assert!(RuleSet::from_bytes(&b).is_err(), "flip at {at}");
        }
        let mut bad = set();
        bad.rules[0].count = 9;
        assert!(bad.to_bytes().is_err());
        let sections: Vec<Section> = set()
            .sections()
            .into_iter()
            .map(|(t, p)| if t == TAG_RULES { (t, vec![0x80; p.len()]) } else { (t, p) })
            .collect();
        let mut framed = Vec::new();
        frame::write_frame_as(&mut framed, KIND, &sections).unwrap();
        assert!(RuleSet::from_bytes(&framed).unwrap_err().to_string().contains("RULE section is malformed"));
        let factor_like = [&super::super::MAGIC[..], &bytes[8..]].concat();
        assert!(RuleSet::from_bytes(&factor_like).unwrap_err().to_string().contains("factor file, not a rules file"));
    }
}
