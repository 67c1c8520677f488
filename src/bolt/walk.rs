//! A whole-tree walk: every key of every bucket under a starting bucket, depth-first in key
//! order, with one visited set for the whole walk so no page is entered twice. Damage is
//! handed to the visitor and the walk continues with the next element.

use super::{BoltError, Bucket, Cursor, Item, Visited};

/// What a walk reports, in order.
pub trait Visitor<'a> {
    /// A key of the bucket whose enclosing names are `names`. For a nested bucket
    /// (`item.is_bucket`), its own keys follow with `item.key` pushed onto `names`.
    fn item(&mut self, names: &[&'a [u8]], item: &Item<'a>) -> std::io::Result<()>;
    /// Damage met along the way.
    fn damage(&mut self, error: BoltError);
}

/// Walks everything under `bucket`, whose own path is `names`.
pub fn walk<'a>(bucket: &Bucket<'a>, names: &mut Vec<&'a [u8]>, visitor: &mut dyn Visitor<'a>) -> std::io::Result<()> {
    walk_with(bucket, names, visitor, &Visited::default())
}

fn walk_with<'a>(
    bucket: &Bucket<'a>,
    names: &mut Vec<&'a [u8]>,
    visitor: &mut dyn Visitor<'a>,
    visited: &Visited,
) -> std::io::Result<()> {
    // The buckets being walked, innermost last, each with its cursor: a stack of our own, not
    // recursion, so that buckets nested thousands deep (a sound file bbolt reads) are walked
    // whole (sweep 42: a 64-level bound made `bolt dump` call such a file damaged). How deep
    // it may go is `open_item_walked`'s bound: the file's page count.
    let mut open: Vec<(Bucket<'a>, Cursor<'a>)> = vec![(*bucket, bucket.cursor_with(visited.clone()))];
    let base = names.len();
    while let Some((current, cursor)) = open.last_mut() {
        let Some(item) = cursor.next() else {
            open.pop();
            // The names of the buckets still open, the starting path's kept.
            if names.len() > base {
                names.pop();
            }
            continue;
        };
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                visitor.damage(e);
                continue;
            }
        };
        let current = *current;
        if let Err(e) = visitor.item(names, &item) {
            names.truncate(base);
            return Err(e);
        }
        if !item.is_bucket {
            continue;
        }
        match current.open_item_walked(&item) {
            Ok(child) => {
                names.push(item.key);
                open.push((child, child.cursor_with(visited.clone())));
            }
            Err(e) => visitor.damage(e),
        }
    }
    names.truncate(base);
    Ok(())
}

/// Counts keys and damage under `bucket`: a full walk that keeps nothing.
pub fn count(bucket: &Bucket<'_>) -> (u64, Vec<BoltError>) {
    struct Count(u64, Vec<BoltError>);
    impl Visitor<'_> for Count {
        fn item(&mut self, _: &[&[u8]], _: &Item<'_>) -> std::io::Result<()> {
            self.0 += 1;
            Ok(())
        }
        fn damage(&mut self, error: BoltError) {
            self.1.push(error);
        }
    }
    let mut c = Count(0, Vec::new());
    // Counting writes nothing, so the walk cannot fail with an I/O error.
    let _ = walk(bucket, &mut Vec::new(), &mut c);
    (c.0, c.1)
}
