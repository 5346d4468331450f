//! The payment journal: a second copy, outside the database file, of every provider state
//! change we acknowledge. Before the write transaction of such a change commits, the rows of its
//! order (payment, Payme/Click transactions, fiscal receipts, the new event) are appended to a
//! checksummed line file and `fdatasync`ed ([`writer::Journal::commit`]); only then is the
//! transaction committed and the provider answered. Recovery replays the journal after the
//! backup and the damaged file's readable rows ([`replay::replay`]), so a damaged database loses
//! no acknowledged payment.
//!
//! Why a line file and not a second SQLite file: an append is one `write` + one `fdatasync`,
//! damage to it costs only the lines it hits (each line carries its own CRC-32), and it has no
//! page structure that one bad sector can take down whole. Why before the commit: after it, a
//! failed append would leave a change in the database that the provider was told had failed. An
//! entry whose commit then fails is voided; one left by a crash between the append and the
//! commit describes a change the provider was never told of (it asks again), and replay, which
//! only moves rows forward, lets any later change win.

pub mod line;
pub mod replay;
pub mod snapshot;
pub mod writer;

pub use line::{read_dir, Body, Entry, EntryId, JournalRead};
pub use replay::{replay, JournalReplayReport};
pub use snapshot::snapshot;
pub use writer::Journal;
