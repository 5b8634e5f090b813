//! KV reads: single keys, prefix listings, key listings rolled up at a separator, and the
//! index a KV read reports (Consul's `kvsListTxn` rule: entries and tombstones under the
//! prefix, else the table index).

use crate::model::KvEntry;
use crate::table::Table;
use crate::tables::with_prefix;
use crate::view::StateView;

impl StateView {
    /// One entry.
    pub fn kv_get(&self, key: &str) -> Option<KvEntry> {
        self.tables.kvs.get(key).cloned()
    }

    /// Every entry whose key starts with `prefix`, sorted by key.
    pub fn kv_list(&self, prefix: &str) -> Vec<KvEntry> {
        with_prefix(&self.tables.kvs, prefix)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Keys under `prefix`. With a (non-empty) separator, keys are rolled up to the first
    /// separator after the prefix, separator included, and de-duplicated.
    pub fn kv_keys(&self, prefix: &str, separator: Option<&str>) -> Vec<String> {
        let separator = separator.filter(|s| !s.is_empty());
        let mut out: Vec<String> = Vec::new();
        for (key, _) in with_prefix(&self.tables.kvs, prefix) {
            let rolled = match separator {
                Some(sep) => match key[prefix.len()..].find(sep) {
                    Some(at) => &key[..prefix.len() + at + sep.len()],
                    None => key.as_str(),
                },
                None => key.as_str(),
            };
            if out.last().map(String::as_str) != Some(rolled) {
                out.push(rolled.to_string());
            }
        }
        out
    }

    /// The index for a KV read of `prefix`: the largest ModifyIndex of the entries under it or
    /// of the deletes recorded under it; the KV table index when there are none (or the prefix
    /// is empty).
    pub fn kv_index(&self, prefix: &str) -> u64 {
        let table = self.table_index(Table::Kvs);
        if prefix.is_empty() {
            return table;
        }
        let entries = with_prefix(&self.tables.kvs, prefix).map(|(_, e)| e.modify_index);
        let deletes = with_prefix(&self.tables.tombstones, prefix).map(|(_, i)| *i);
        match entries.chain(deletes).max() {
            Some(i) if i > 0 => i,
            _ => table,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use crate::command::Command;
    use crate::command::KvVerb;
    use crate::testing::op;

    fn store(keys: &[&str]) -> Store {
        let s = Store::new();
        for (i, k) in keys.iter().enumerate() {
            s.apply(i as u64 + 1, Command::Kv(op(KvVerb::Set, k)));
        }
        s
    }

    #[test]
    fn keys_roll_up_at_separator() {
        let v = store(&["a/b/c", "a/b/d", "a/e", "a/f/", "b", "ab"]).view();
        assert_eq!(v.kv_keys("a/", Some("/")), ["a/b/", "a/e", "a/f/"]);
        assert_eq!(v.kv_keys("", Some("/")), ["a/", "ab", "b"]);
        assert_eq!(
            v.kv_keys("a", None),
            ["a/b/c", "a/b/d", "a/e", "a/f/", "ab"]
        );
        assert_eq!(v.kv_keys("a", Some("")), v.kv_keys("a", None));
        assert!(v.kv_keys("zz", Some("/")).is_empty());
    }

    #[test]
    fn list_and_get() {
        let v = store(&["x/1", "x/2", "y"]).view();
        let keys: Vec<String> = v.kv_list("x/").into_iter().map(|e| e.key).collect();
        assert_eq!(keys, ["x/1", "x/2"]);
        assert_eq!(v.kv_get("y").unwrap().modify_index, 3);
        assert!(v.kv_get("x").is_none());
        assert_eq!(v.kv_index("x/"), 2);
    }
}
