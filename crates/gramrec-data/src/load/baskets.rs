//! Baskets: one basket per line, its items delimited (a grocery receipt,
//! a playlist, a session). The basket is the "user" — its line number, or
//! its ID in `--basket-col` — and every item counts 1. This is the input of
//! association rules as of implicit ALS.
//!
//! Transaction logs with one (basket, item) per line need no format of their
//! own: `--user-col InvoiceNo --item-col StockCode --rating-col none`.

use gramrec_core::{set, setting, Error, Result};

use super::delimited::{choose, for_each_record, Candidates};
use super::{Column, Header, LoadOptions, RatingColumn, Sink, Text};

/// Reads baskets: the delimiter given or detected (`,`, tab, `;` or `|`;
/// items may hold spaces), a header only with `--header yes` or a basket
/// column named.
pub(super) fn read(text: Text<'_>, opts: &LoadOptions, sink: &mut Sink<'_>) -> Result<()> {
    if !opts.item_fields.is_empty() || opts.items_only {
        return Err(Error::Argument(format!(
            "item names, links and images cannot come from a basket file: give them with {}",
            set("items", "FILE")
        )));
    }
    if opts.user.is_some() || opts.item.is_some() || !matches!(opts.rating, RatingColumn::Auto | RatingColumn::Absent) {
        return Err(Error::Argument(format!(
            "{}, {} and {} do not apply to {} (a basket's items are its fields; {} names the basket's ID)",
            setting("user_col"),
            setting("item_col"),
            setting("rating_col"),
            set("format", "baskets"),
            setting("basket_col")
        )));
    }
    let (delim, quoting) = choose(text.name, text.head, opts, sink, Candidates::Items)?;
    let header = match opts.header {
        Header::Yes => true,
        Header::No => false,
        Header::Auto => matches!(opts.basket, Some(Column::Name(_))),
    };
    let mut id_column: Option<Option<usize>> = if header { None } else { Some(index_of(opts, &[], sink, 1)?) };
    sink.layout().basket_column = id_column.flatten();
    sink.out.has_ratings = false;
    for_each_record(text.reader, &delim, quoting, sink, |sink, line, fields| {
        let Some(id_col) = id_column else {
            id_column = Some(index_of(opts, fields, sink, line)?);
            sink.layout().header_line = Some(line);
            sink.layout().basket_column = id_column.flatten();
            return Ok(());
        };
        let basket = match id_col {
            Some(c) => match fields.get(c) {
                Some(id) => id.trim().to_string(),
                None => return Err(sink.reject(line, "too few columns", format!("no basket ID in column {c}"))),
            },
            None => line.to_string(),
        };
        for (k, item) in fields.iter().enumerate() {
            let item = item.trim();
            if Some(k) != id_col && !item.is_empty() {
                sink.push(line, &basket, item, 1.0, None)?;
            }
        }
        Ok(())
    })
}

/// The column of the basket ID, resolved against the header `fields`.
fn index_of(opts: &LoadOptions, fields: &[&str], sink: &Sink<'_>, line: u64) -> Result<Option<usize>> {
    match &opts.basket {
        None => Ok(None),
        Some(Column::Index(i)) => Ok(Some(*i)),
        Some(Column::Name(n)) => fields
            .iter()
            .position(|f| f.trim() == n)
            .map(Some)
            .ok_or_else(|| sink.err(line, format!("no column named '{n}' in the header ({})", fields.join(", ")))),
    }
}
