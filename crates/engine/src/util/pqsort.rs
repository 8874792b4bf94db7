//! Partial quicksort as Redis runs it (pqsort.c): Bentley and McIlroy's "Engineering a Sort
//! Function" quicksort (median-of-three or ninther pivot, three-way partition moving equal
//! keys to the ends, insertion sort below 7 elements) that skips every partition lying
//! entirely outside the wanted index range.
//!
//! The sort is not stable, so elements that compare equal end up in an order that depends on
//! the algorithm's exact steps. SORT … BY … LIMIT and GEORADIUS … COUNT use it in Redis; we
//! take the same steps so ties come out in the same order.

use std::cmp::Ordering;

/// Sorts `v` enough that the elements at indexes `lrange..=rrange` are the ones a full sort
/// would put there, in that order.
/// `rrange` may be below `lrange` (even -1), as Redis can pass it for an empty LIMIT.
pub fn pqsort<T>(v: &mut [T], lrange: i64, rrange: i64, cmp: &mut impl FnMut(&T, &T) -> Ordering) {
    sort_part(v, 0, v.len(), lrange, rrange, cmp);
}

/// Whether the partition `start..start + len` holds none of the wanted range.
fn outside(start: usize, len: usize, lrange: i64, rrange: i64) -> bool {
    let (s, e) = (start as i64, (start + len) as i64);
    (lrange < s && rrange < s) || (lrange >= e && rrange >= e)
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &mut impl FnMut(&T, &T) -> Ordering) -> usize {
    if cmp(&v[a], &v[b]) == Ordering::Less {
        if cmp(&v[b], &v[c]) == Ordering::Less {
            b
        } else if cmp(&v[a], &v[c]) == Ordering::Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Ordering::Greater {
        b
    } else if cmp(&v[a], &v[c]) == Ordering::Less {
        a
    } else {
        c
    }
}

fn vecswap<T>(v: &mut [T], i: usize, j: usize, n: usize) {
    for k in 0..n {
        v.swap(i + k, j + k);
    }
}

fn sort_part<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    lrange: i64,
    rrange: i64,
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
) {
    loop {
        if n < 7 {
            for pm in a + 1..a + n {
                let mut pl = pm;
                while pl > a && cmp(&v[pl - 1], &v[pl]) == Ordering::Greater {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        // The pivot is at `a`; equal keys gather at both ends ([a+1, pa) and (pd, end]).
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                match cmp(&v[pb], &v[a]) {
                    Ordering::Greater => break,
                    Ordering::Equal => {
                        v.swap(pa, pb);
                        pa += 1;
                    }
                    Ordering::Less => {}
                }
                pb += 1;
            }
            while pb <= pc {
                match cmp(&v[pc], &v[a]) {
                    Ordering::Less => break,
                    Ordering::Equal => {
                        v.swap(pc, pd);
                        pd -= 1;
                    }
                    Ordering::Greater => {}
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        // Move the equal keys to the middle.
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let left = pb - pa;
        if left > 1 && !outside(a, left, lrange, rrange) {
            sort_part(v, a, left, lrange, rrange, cmp);
        }
        let right = pd - pc;
        if right <= 1 {
            return;
        }
        a = pn - right;
        n = right;
        if outside(a, n, lrange, rrange) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wanted_range_is_sorted() {
        let mut seed = 7u64;
        for len in [0usize, 1, 5, 7, 8, 40, 41, 100, 1000] {
            let orig: Vec<u32> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 40) as u32 % 50
                })
                .collect();
            let mut full = orig.clone();
            full.sort();
            for (l, r) in [(0, 0), (0, 9), (3, 7), (len / 2, len / 2 + 5)] {
                if len == 0 || r >= len {
                    continue;
                }
                let mut v = orig.clone();
                pqsort(&mut v, l as i64, r as i64, &mut |a, b| a.cmp(b));
                assert_eq!(v[l..=r], full[l..=r], "len {len} range {l}..={r}");
            }
        }
    }

    #[test]
    fn ties_come_out_in_quicksort_order() {
        // Keys compare by their first field only: the second shows where each tie went.
        let mut v: Vec<(u8, u8)> = (0..10).map(|i| (u8::from(i % 3 == 0), i)).collect();
        pqsort(&mut v, 0, 2, &mut |a, b| a.0.cmp(&b.0));
        assert_eq!(v[..3].iter().map(|p| p.0).collect::<Vec<_>>(), [0, 0, 0]);
    }
}
