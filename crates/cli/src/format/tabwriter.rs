//! Go's `text/tabwriter` for the settings Consul uses (`minwidth 0, padding N, ' ', 0`): cells
//! are tab-terminated, and each column block (consecutive lines that have a cell in that
//! column) is padded to its widest cell plus the padding. Text after the last tab is not part
//! of a column.

/// Aligns tab-separated `text` the way `tabwriter.NewWriter(w, 0, _, padding, ' ', 0)` does.
pub(crate) fn format(text: &str, padding: usize) -> String {
    let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut out = String::new();
    let mut widths = Vec::new();
    format_block(&lines, 0, lines.len(), &mut widths, padding, &mut out);
    out
}

fn cell_width(cell: &str) -> usize {
    cell.chars().count()
}

fn format_block(
    lines: &[Vec<&str>],
    mut line0: usize,
    line1: usize,
    widths: &mut Vec<usize>,
    padding: usize,
    out: &mut String,
) {
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        write_lines(lines, line0, this, widths, out);
        line0 = this;
        let mut width = 0;
        while this < line1 && column + 1 < lines[this].len() {
            width = width.max(cell_width(lines[this][column]) + padding);
            this += 1;
        }
        widths.push(width);
        format_block(lines, line0, this, widths, padding, out);
        widths.pop();
        line0 = this;
    }
    write_lines(lines, line0, line1, widths, out);
}

fn write_lines(lines: &[Vec<&str>], from: usize, to: usize, widths: &[usize], out: &mut String) {
    for (i, line) in lines.iter().enumerate().take(to).skip(from) {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if j + 1 < line.len()
                && let Some(w) = widths.get(j)
            {
                let pad = w.saturating_sub(cell_width(cell));
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_two_columns_with_padding() {
        let got = format("CreateIndex\t5\nKey\tfoo\nValue\tbar", 6);
        assert_eq!(
            got,
            "CreateIndex      5\nKey              foo\nValue            bar"
        );
    }

    #[test]
    fn line_without_tabs_breaks_block() {
        let got = format("a\t1\nplain\nlonger\t2\n", 2);
        assert_eq!(got, "a  1\nplain\nlonger  2\n");
    }

    #[test]
    fn empty_trailing_text_is_kept() {
        assert_eq!(format("svc\t\n", 6), "svc      \n");
    }
}
