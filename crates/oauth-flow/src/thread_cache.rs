//! Each thread's copy of the current tokens of the grants it used last: the warm path of
//! [`GrantHandle::access_token`](crate::GrantHandle::access_token) reads it without taking the
//! grant's lock.
//!
//! Why: the read lock costs two atomic read-modify-writes on a line every thread shares, and
//! they were the largest part of a warm call (`benches/token_lifecycle.rs -- warm`). Here a
//! warm call does one plain atomic load of the grant's generation and compares it with the
//! generation the thread's copy was taken at. The grant bumps its generation under its write
//! lock whenever its current token changes, so a copy is used only while it is still current.
//!
//! Entries are keyed by a grant's id, unique for the life of the process (never by address: a
//! slot evicted and another allocated at the same place must not match). A thread keeps at
//! most [`WAYS`] entries, and a grant takes another's way only on its second miss in a row, so
//! a thread serving many grants in turn does not copy on every call. An entry holds a clone of
//! one access token (never a refresh token) until the thread caches another grant in its way,
//! reads the grant after it was forgotten, or exits.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::credentials::{AccessToken, Authorization};

/// Entries per thread, direct-mapped by grant id: enough for a thread that interleaves a few
/// grants, small enough that a stale entry is soon overwritten.
const WAYS: usize = 8;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A new grant id, never reused in this process.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A thread's copy of a grant's current token, taken at `generation`. Only tokens that are
/// persisted (safe to hand out) are copied.
pub(crate) struct Entry {
    pub(crate) id: u64,
    pub(crate) generation: u64,
    pub(crate) refresh_due: Option<SystemTime>,
    pub(crate) access: AccessToken,
    pub(crate) bearer: Option<Authorization>,
}

/// One way of a thread's cache: a copy, and the last grant refused a place here.
struct Way {
    entry: Option<Entry>,
    /// The grant that last missed here while another grant's copy held the way: taking its
    /// place needs a second miss in a row, so grants used in turn (a thread serving many
    /// users) do not evict each other on every call, and a grant used twice in a row does.
    refused: u64,
}

thread_local! {
    static CACHE: RefCell<[Way; WAYS]> = const {
        RefCell::new([const { Way { entry: None, refused: 0 } }; WAYS])
    };
}

fn way(id: u64) -> usize {
    // `WAYS` is a power of two; the low bits of a counter spread evenly.
    (id as usize) & (WAYS - 1)
}

/// What [`lookup`] found.
pub(crate) enum Lookup<T> {
    /// This thread's copy of the grant at the asked generation, read.
    Hit(T),
    /// No current copy; `admit` says whether to take one now (see [`Way::refused`]).
    Miss {
        /// Take a copy and [`insert`] it.
        admit: bool,
    },
}

/// `read(entry)` if this thread holds grant `id`'s token as of `generation`.
pub(crate) fn lookup<T>(id: u64, generation: u64, read: impl FnOnce(&Entry) -> T) -> Lookup<T> {
    CACHE
        .try_with(|cache| {
            let Ok(mut cache) = cache.try_borrow_mut() else {
                return Lookup::Miss { admit: false };
            };
            let way = &mut cache[way(id)];
            match &way.entry {
                Some(e) if e.id == id && e.generation == generation => Lookup::Hit(read(e)),
                Some(e) if e.id != id && way.refused != id => {
                    way.refused = id;
                    Lookup::Miss { admit: false }
                }
                // An empty way, an older copy of this grant, or its second miss in a row.
                _ => Lookup::Miss { admit: true },
            }
        })
        .unwrap_or(Lookup::Miss { admit: false })
}

/// Keeps `entry` in this thread's cache, replacing whatever held its way.
pub(crate) fn insert(entry: Entry) {
    let _ = CACHE.try_with(|cache| {
        if let Ok(mut cache) = cache.try_borrow_mut() {
            let way = &mut cache[way(entry.id)];
            way.refused = 0;
            way.entry = Some(entry);
        }
    });
}

/// Drops this thread's copy of grant `id`, if it holds one.
pub(crate) fn remove(id: u64) {
    let _ = CACHE.try_with(|cache| {
        if let Ok(mut cache) = cache.try_borrow_mut() {
            let way = &mut cache[way(id)];
            if way.entry.as_ref().is_some_and(|e| e.id == id) {
                way.entry = None;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::{ExposeSecret, SecretString};

    fn entry(id: u64, generation: u64, access: &str) -> Entry {
        Entry {
            id,
            generation,
            refresh_due: None,
            access: AccessToken::new(SecretString::from(access.to_owned())),
            bearer: None,
        }
    }

    fn get(id: u64, generation: u64) -> Option<String> {
        match lookup(id, generation, |e| {
            e.access.secret().expose_secret().to_owned()
        }) {
            Lookup::Hit(s) => Some(s),
            Lookup::Miss { .. } => None,
        }
    }

    fn admits(id: u64, generation: u64) -> bool {
        matches!(lookup(id, generation, |_| ()), Lookup::Miss { admit: true })
    }

    #[test]
    fn an_entry_serves_only_its_grant_at_its_generation() {
        let a = next_id();
        insert(entry(a, 3, "a3"));
        assert_eq!(get(a, 3).as_deref(), Some("a3"));
        assert_eq!(get(a, 4), None, "a newer generation misses");
        assert_eq!(
            get(a + WAYS as u64, 3),
            None,
            "another grant in the same way misses"
        );
        remove(a);
        assert_eq!(get(a, 3), None);
    }

    #[test]
    fn grants_in_the_same_way_replace_each_other() {
        let a = next_id();
        let b = a + WAYS as u64;
        insert(entry(a, 1, "a"));
        insert(entry(b, 1, "b"));
        assert_eq!(get(a, 1), None);
        assert_eq!(get(b, 1).as_deref(), Some("b"));
        remove(a); // not a's entry any more: b stays
        assert_eq!(get(b, 1).as_deref(), Some("b"));
    }

    #[test]
    fn a_way_is_taken_over_only_on_a_second_miss_in_a_row() {
        let a = next_id();
        let b = a + WAYS as u64;
        let c = b + WAYS as u64;
        assert!(admits(a, 1), "an empty way admits");
        insert(entry(a, 1, "a"));
        assert!(!admits(b, 1), "first miss of b: a keeps the way");
        assert!(!admits(c, 1), "grants in turn: c's first miss");
        assert!(!admits(b, 1), "b again, but c missed in between");
        assert_eq!(get(a, 1).as_deref(), Some("a"), "a was never evicted");
        assert!(admits(b, 1), "b twice in a row takes the way");
        insert(entry(b, 1, "b"));
        assert!(
            admits(b, 2),
            "an older copy of the same grant is replaced at once"
        );
    }

    #[test]
    fn threads_do_not_share_entries() {
        let a = next_id();
        insert(entry(a, 1, "a"));
        let other = std::thread::spawn(move || get(a, 1)).join().unwrap();
        assert_eq!(other, None);
        assert_eq!(get(a, 1).as_deref(), Some("a"));
    }
}
