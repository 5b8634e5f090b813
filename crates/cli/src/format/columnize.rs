//! `ryanuber/columnize` with Consul's settings: fields split on a delimiter and trimmed, each
//! column padded to its widest cell, columns glued with two spaces, the last cell of a line
//! unpadded, and the final newline removed.

/// The field delimiter Consul uses (ASCII unit separator).
pub(crate) const DELIM: char = '\x1f';

const GLUE: &str = "  ";

/// Formats `lines` (fields separated by [`DELIM`]) as an aligned table.
pub(crate) fn format(lines: &[String]) -> String {
    let rows: Vec<Vec<&str>> = lines
        .iter()
        .map(|l| l.split(DELIM).map(str::trim).collect())
        .collect();
    let mut widths: Vec<usize> = Vec::new();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(cur) => *cur = (*cur).max(w),
                None => widths.push(w),
            }
        }
    }
    let mut out = String::new();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                out.push_str(cell);
                out.push('\n');
            } else {
                out.push_str(cell);
                let pad = widths[i].saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(GLUE);
            }
        }
    }
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

/// Joins fields with [`DELIM`] into one line for [`format`].
pub(crate) fn row<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push(DELIM);
        }
        line.push_str(f.as_ref());
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_all_but_last_column() {
        let lines = vec![
            row(&["Node", "Address", "Status"]),
            row(&["a", "127.0.0.1:8301", "alive"]),
        ];
        assert_eq!(
            format(&lines),
            "Node  Address         Status\na     127.0.0.1:8301  alive"
        );
    }

    #[test]
    fn trims_fields_and_keeps_trailing_empty_cells() {
        let lines = vec![row(&["x", " y ", ""]), row(&["long", "z", "w"])];
        assert_eq!(format(&lines), "x     y  \nlong  z  w");
    }

    proptest::proptest! {
        #[test]
        fn cells_survive_and_columns_align(
            rows in proptest::collection::vec(proptest::collection::vec("[a-z0-9]{1,8}", 3), 1..6)
        ) {
            let lines: Vec<String> = rows.iter().map(|r| row(r)).collect();
            let out = format(&lines);
            let out_lines: Vec<&str> = out.split('\n').collect();
            proptest::prop_assert_eq!(out_lines.len(), rows.len());
            for (line, cells) in out_lines.iter().zip(&rows) {
                let got: Vec<&str> = line.split_whitespace().collect();
                let want: Vec<&str> = cells.iter().map(String::as_str).collect();
                proptest::prop_assert_eq!(got, want);
            }
            let last_col: Vec<usize> = out_lines
                .iter()
                .zip(&rows)
                .map(|(l, r)| l.len() - r[2].len())
                .collect();
            proptest::prop_assert!(last_col.iter().all(|c| *c == last_col[0]));
        }
    }

    #[test]
    fn empty_input_is_empty() {
        assert_eq!(format(&[]), "");
    }
}
