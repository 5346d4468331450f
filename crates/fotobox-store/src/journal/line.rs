//! The journal's file format: one entry per line, `<crc32 as 8 hex digits> <JSON>\n`, in
//! numbered segment files `NNNNNNNN.jsonl`. A line whose checksum or JSON does not match (a torn
//! last line after a crash, a damaged sector) is counted and skipped on read, never a panic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::maintenance::{GenericRow, SqlValue};

/// A row as its columns' values: integers, reals, text and null as themselves, a blob as
/// `{"blob": "<hex>"}` (so that it cannot be mistaken for text).
pub type JsonRow = Map<String, Value>;

/// Where an entry is: its segment and its sequence number in the process run that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryId {
    pub segment: u64,
    pub seq: u64,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub segment: u64,
    pub seq: u64,
    /// When it was appended (UTC, the database's time format).
    pub at: String,
    #[serde(flatten)]
    pub body: Body,
}

impl Entry {
    pub fn id(&self) -> EntryId {
        EntryId {
            segment: self.segment,
            seq: self.seq,
        }
    }
}

/// What an entry says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    /// A provider state change: the rows of its order as they were inside the write transaction,
    /// just before its commit (`what` is e.g. `click:complete`, `payme:PerformTransaction`).
    Change {
        what: String,
        payment_id: i64,
        rows: BTreeMap<String, Vec<JsonRow>>,
    },
    /// The change `voids` was not committed (its commit failed, or its own append did).
    Void { voids: EntryId },
    /// Staff replaced or cleared the data on purpose: the entries up to `through` (the newest
    /// entry just before) describe data that is gone on purpose and are not replayed.
    Reset {
        reason: String,
        through: Option<EntryId>,
    },
}

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// CRC-32 (IEEE 802.3, the one of zip and PNG).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c = CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// The line for `entry`, newline included.
pub fn encode(entry: &Entry) -> serde_json::Result<Vec<u8>> {
    let json = serde_json::to_string(entry)?;
    Ok(format!("{:08x} {json}\n", crc32(json.as_bytes())).into_bytes())
}

/// The entry on one line (without its newline), or `None` when the line is damaged.
pub fn decode(line: &[u8]) -> Option<Entry> {
    let hex = std::str::from_utf8(line.get(..8)?).ok()?;
    if line.get(8) != Some(&b' ') {
        return None;
    }
    let want = u32::from_str_radix(hex, 16).ok()?;
    let json = line.get(9..)?;
    if crc32(json) != want {
        return None;
    }
    serde_json::from_slice(json).ok()
}

pub fn value_to_json(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Int(i) => Value::from(*i),
        SqlValue::Real(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        SqlValue::Text(s) => Value::from(s.as_str()),
        SqlValue::Blob(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            serde_json::json!({ "blob": hex })
        }
    }
}

pub fn value_from_json(v: &Value) -> Option<SqlValue> {
    Some(match v {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Int(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Int(i),
            None => SqlValue::Real(n.as_f64()?),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        Value::Object(o) => {
            let hex = o.get("blob")?.as_str()?;
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()?;
            SqlValue::Blob(bytes)
        }
        Value::Array(_) => return None,
    })
}

pub fn row_to_json(row: &GenericRow) -> JsonRow {
    row.iter()
        .map(|(c, v)| (c.clone(), value_to_json(v)))
        .collect()
}

/// The row back as (column, value) pairs; `None` when a value is not one a row can hold.
pub fn row_from_json(row: &JsonRow) -> Option<GenericRow> {
    row.iter()
        .map(|(c, v)| Some((c.clone(), value_from_json(v)?)))
        .collect()
}

/// `NNNNNNNN.jsonl`.
pub fn segment_name(n: u64) -> String {
    format!("{n:08}.jsonl")
}

/// The segment files in `dir`, by number.
pub fn segments(dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(u64, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let n = name.strip_suffix(".jsonl")?.parse::<u64>().ok()?;
            Some((n, e.path()))
        })
        .collect();
    out.sort();
    out
}

/// Everything readable in a journal folder, in the order it was written.
#[derive(Debug, Clone, Default)]
pub struct JournalRead {
    pub entries: Vec<Entry>,
    /// Lines that failed their checksum or did not parse (a torn last line is one of them).
    pub unreadable_lines: u64,
    /// Segment files that could not be read at all.
    pub unreadable_files: u64,
    pub segments: u64,
}

/// Read every segment of `dir` (a missing folder reads as empty).
pub fn read_dir(dir: &Path) -> JournalRead {
    let mut out = JournalRead::default();
    for (_, path) in segments(dir) {
        out.segments += 1;
        let Ok(bytes) = std::fs::read(&path) else {
            out.unreadable_files += 1;
            continue;
        };
        for line in bytes.split(|b| *b == b'\n') {
            if line.is_empty() {
                continue;
            }
            match decode(line) {
                Some(e) => out.entries.push(e),
                None => out.unreadable_lines += 1,
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    fn change() -> Entry {
        let row: GenericRow = vec![
            ("id".into(), SqlValue::Int(7)),
            ("order_id".into(), SqlValue::Text("A-1".into())),
            ("ratio".into(), SqlValue::Real(0.5)),
            ("raw".into(), SqlValue::Blob(vec![0, 255, 16])),
            ("cancel_reason".into(), SqlValue::Null),
        ];
        let mut rows = BTreeMap::new();
        rows.insert("payments".to_string(), vec![row_to_json(&row)]);
        Entry {
            segment: 3,
            seq: 9,
            at: "2026-11-25 10:00:00.000".into(),
            body: Body::Change {
                what: "click:complete".into(),
                payment_id: 7,
                rows,
            },
        }
    }

    #[test]
    fn a_line_round_trips_and_any_flipped_byte_is_refused() {
        let e = change();
        let line = encode(&e).unwrap();
        assert_eq!(line.last(), Some(&b'\n'));
        let body = &line[..line.len() - 1];
        assert_eq!(decode(body), Some(e.clone()));
        let Body::Change { rows, .. } = &e.body else {
            unreachable!()
        };
        let back = row_from_json(&rows["payments"][0]).unwrap();
        let get = |c: &str| back.iter().find(|(k, _)| k == c).map(|(_, v)| v.clone());
        assert_eq!(get("raw"), Some(SqlValue::Blob(vec![0, 255, 16])));
        assert_eq!(get("ratio"), Some(SqlValue::Real(0.5)));
        assert_eq!(get("id"), Some(SqlValue::Int(7)));
        assert_eq!(get("cancel_reason"), Some(SqlValue::Null));
        for i in 0..body.len() {
            let mut bad = body.to_vec();
            bad[i] ^= 0x04;
            assert_eq!(decode(&bad), None, "byte {i} flipped");
        }
        for cut in 0..body.len() {
            assert_eq!(decode(&body[..cut]), None, "cut at {cut}");
        }
    }

    #[test]
    fn a_torn_or_garbled_line_is_skipped_and_the_rest_read() {
        let dir = super::testdir::TempDir::new("torn");
        let a = encode(&change()).unwrap();
        let mut file = a.clone();
        file.extend_from_slice(b"garbage \xff\xfe not a line\n");
        file.extend_from_slice(&a);
        file.extend_from_slice(&a[..a.len() / 2]); // torn by a crash
        std::fs::write(dir.path().join(segment_name(3)), &file).unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        let r = read_dir(dir.path());
        assert_eq!(r.entries.len(), 2);
        assert_eq!(r.unreadable_lines, 2);
        assert_eq!(r.segments, 1);
        assert_eq!(read_dir(&dir.path().join("missing")).entries.len(), 0);
    }
}

/// A scratch folder for the journal's tests (the store crate has no tempfile dependency).
#[cfg(test)]
pub(crate) mod testdir {
    #![allow(clippy::unwrap_used)]
    use std::path::{Path, PathBuf};

    /// Removed on drop.
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(name: &str) -> TempDir {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let p = std::env::temp_dir().join(format!(
                "fotobox-journal-{}-{name}-{nanos}",
                std::process::id()
            ));
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
