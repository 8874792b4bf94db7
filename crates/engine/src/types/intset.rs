//! The `intset` encoding of small all-integer sets, as Redis's intset.c lays it out: a sorted
//! array of integers in the narrowest width (16, 32 or 64 bits) that holds every member.
//!
//! Adding a member that needs a wider type upgrades the whole array (and, like Redis, an
//! intset never downgrades). Lookups are binary searches; an insertion or removal moves the
//! tail and reallocates the array to its exact size, as Redis's intsetResize does.

/// A sorted array of distinct integers (see the module docs).
#[derive(Clone, PartialEq, Eq)]
pub enum IntSet {
    W16(Box<[i16]>),
    W32(Box<[i32]>),
    W64(Box<[i64]>),
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet::W16(Box::new([]))
    }
}

/// Inserts `x` at `pos`, growing the boxed slice by exactly one element.
fn insert_at<T: Copy>(b: &mut Box<[T]>, pos: usize, x: T) {
    let mut v = std::mem::take(b).into_vec();
    v.reserve_exact(1);
    v.insert(pos, x);
    *b = v.into_boxed_slice();
}

fn remove_at<T: Copy>(b: &mut Box<[T]>, pos: usize) {
    let mut v = std::mem::take(b).into_vec();
    v.remove(pos);
    *b = v.into_boxed_slice();
}

fn widen<T: Copy + Into<i64>>(b: &[T], x: i64) -> Vec<i64> {
    let mut v: Vec<i64> = Vec::with_capacity(b.len() + 1);
    // A value that needs a wider type is below or above every current member.
    if x < 0 {
        v.push(x);
        v.extend(b.iter().map(|&e| e.into()));
    } else {
        v.extend(b.iter().map(|&e| e.into()));
        v.push(x);
    }
    v
}

impl IntSet {
    pub fn new() -> IntSet {
        IntSet::default()
    }

    pub fn len(&self) -> usize {
        match self {
            IntSet::W16(b) => b.len(),
            IntSet::W32(b) => b.len(),
            IntSet::W64(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per member.
    pub fn width(&self) -> usize {
        match self {
            IntSet::W16(_) => 2,
            IntSet::W32(_) => 4,
            IntSet::W64(_) => 8,
        }
    }

    /// Bytes the array takes.
    pub fn bytes(&self) -> usize {
        self.len() * self.width()
    }

    fn width_for(x: i64) -> usize {
        if i16::try_from(x).is_ok() {
            2
        } else if i32::try_from(x).is_ok() {
            4
        } else {
            8
        }
    }

    /// Where `x` is (Ok) or would go (Err).
    fn search(&self, x: i64) -> Result<usize, usize> {
        match self {
            IntSet::W16(b) => match i16::try_from(x) {
                Ok(v) => b.binary_search(&v),
                Err(_) => Err(if x < 0 { 0 } else { b.len() }),
            },
            IntSet::W32(b) => match i32::try_from(x) {
                Ok(v) => b.binary_search(&v),
                Err(_) => Err(if x < 0 { 0 } else { b.len() }),
            },
            IntSet::W64(b) => b.binary_search(&x),
        }
    }

    pub fn contains(&self, x: i64) -> bool {
        self.search(x).is_ok()
    }

    /// Adds `x`; false if it was already a member.
    pub fn insert(&mut self, x: i64) -> bool {
        if Self::width_for(x) > self.width() {
            let wider = match self {
                IntSet::W16(b) => widen(b, x),
                IntSet::W32(b) => widen(b, x),
                IntSet::W64(_) => unreachable!("nothing is wider than 64 bits"),
            };
            *self = if Self::width_for(x) == 4 {
                IntSet::W32(wider.into_iter().map(|v| v as i32).collect())
            } else {
                IntSet::W64(wider.into_boxed_slice())
            };
            return true;
        }
        let Err(pos) = self.search(x) else { return false };
        // The width check above guarantees the casts are lossless.
        match self {
            IntSet::W16(b) => insert_at(b, pos, x as i16),
            IntSet::W32(b) => insert_at(b, pos, x as i32),
            IntSet::W64(b) => insert_at(b, pos, x),
        }
        true
    }

    /// Removes `x`; false if it was not a member.
    pub fn remove(&mut self, x: i64) -> bool {
        let Ok(pos) = self.search(x) else { return false };
        self.remove_index(pos);
        true
    }

    /// Removes the member at `pos` (< len).
    pub fn remove_index(&mut self, pos: usize) {
        match self {
            IntSet::W16(b) => remove_at(b, pos),
            IntSet::W32(b) => remove_at(b, pos),
            IntSet::W64(b) => remove_at(b, pos),
        }
    }

    /// The member at `pos` (< len), in ascending order.
    pub fn get(&self, pos: usize) -> i64 {
        match self {
            IntSet::W16(b) => b[pos] as i64,
            IntSet::W32(b) => b[pos] as i64,
            IntSet::W64(b) => b[pos],
        }
    }

    /// Members in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }
}

impl std::fmt::Debug for IntSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_upgrades_width() {
        let mut s = IntSet::new();
        assert!(s.insert(5));
        assert!(s.insert(-3));
        assert!(!s.insert(5));
        assert_eq!(s.width(), 2);
        assert!(s.insert(70_000));
        assert_eq!(s.width(), 4);
        assert!(s.insert(-5_000_000_000));
        assert_eq!(s.width(), 8);
        assert!(s.insert(1));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![-5_000_000_000, -3, 1, 5, 70_000]);
        assert!(s.contains(70_000) && !s.contains(2));
        assert!(s.remove(-3) && !s.remove(-3));
        assert_eq!(s.len(), 4);
        assert_eq!(s.bytes(), 32);
        // Never downgrades.
        assert!(s.remove(-5_000_000_000));
        assert_eq!(s.width(), 8);
    }

    #[test]
    fn out_of_width_lookups_miss() {
        let mut s = IntSet::new();
        s.insert(1);
        assert!(!s.contains(i64::MAX));
        assert!(!s.contains(i64::MIN));
        assert!(!s.remove(100_000));
    }
}
