//! CPU time of server processes from `/proc/<pid>/stat`: utime + stime in clock ticks, summed
//! over every process of the system under test.

use anyhow::Context;

/// utime + stime from the text of one `/proc/<pid>/stat`. The command name (field 2) may hold
/// spaces and parentheses, so fields are counted after its last `)`.
pub(crate) fn ticks_from_stat(stat: &str) -> anyhow::Result<u64> {
    let after_comm = stat.rsplit_once(')').context("no `)` in stat")?.1;
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // After the command: state(3) ppid … utime(14) stime(15), i.e. indices 11 and 12.
    let field = |i: usize| -> anyhow::Result<u64> {
        let raw = fields.get(i).context("stat too short")?;
        raw.parse()
            .with_context(|| format!("bad stat field {raw:?}"))
    };
    Ok(field(11)? + field(12)?)
}

/// Sum of utime + stime over `pids`, in clock ticks.
pub(crate) fn total_ticks(pids: &[u32]) -> anyhow::Result<u64> {
    pids.iter().try_fold(0u64, |sum, pid| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("reading /proc/{pid}/stat"))?;
        Ok(sum + ticks_from_stat(&stat)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_plus_stime() {
        let stat = "1234 (legate) S 1 1234 1234 0 -1 4194560 2000 0 0 0 150 25 0 0 20 0 9 0 100";
        assert_eq!(ticks_from_stat(stat).unwrap(), 175);
    }

    #[test]
    fn command_with_spaces_and_parens() {
        let stat = "7 (tokio (rt) w) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 5";
        assert_eq!(ticks_from_stat(stat).unwrap(), 7);
    }

    #[test]
    fn malformed_stat_is_an_error() {
        assert!(ticks_from_stat("no parens here").is_err());
        assert!(ticks_from_stat("1 (x) S 1 2").is_err());
        assert!(ticks_from_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 a 4").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_command_name(comm in "[ -~]{0,20}", utime in 0u64..1 << 40, stime in 0u64..1 << 40) {
            let stat = format!("99 ({comm}) S 1 99 99 0 -1 0 0 0 0 0 {utime} {stime} 0 0 20 0 1 0 5");
            proptest::prop_assert_eq!(ticks_from_stat(&stat).unwrap(), utime + stime);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
            let _ = ticks_from_stat(&text);
        }
    }

    #[test]
    fn own_process_is_readable() {
        assert!(total_ticks(&[std::process::id(), std::process::id()]).is_ok());
    }
}
