//! Arena views: a tensor's [`Region`] of an arena, and [`carve`], which splits an arena into
//! a layer's output and the rest it reads its inputs from.

/// A tensor's elements in an arena: `offset..offset + len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// First element.
    pub offset: usize,
    /// Number of elements.
    pub len: usize,
}

/// The parts of an arena around an op's output region, for reading its inputs.
pub struct Rest<'a, T> {
    before: &'a [T],
    after: &'a [T],
    after_start: usize,
}

impl<'a, T> Rest<'a, T> {
    /// A view of a whole arena (for inputs from an arena the op does not write).
    #[inline(always)]
    pub fn whole(arena: &'a [T]) -> Self {
        Rest {
            before: &[],
            after: arena,
            after_start: 0,
        }
    }

    /// The elements of `region` (empty if it overlaps the output region, which the memory
    /// plan rules out).
    #[inline(always)]
    pub fn get(&self, region: Region) -> &'a [T] {
        let Region { offset, len } = region;
        let end = offset.wrapping_add(len);
        if end <= self.before.len() {
            self.before.get(offset..end).unwrap_or(&[])
        } else if offset >= self.after_start {
            self.after
                .get(offset - self.after_start..end - self.after_start)
                .unwrap_or(&[])
        } else {
            &[]
        }
    }
}

/// Splits an arena into the output `region` and the rest.
#[inline(always)]
pub fn carve<T>(arena: &mut [T], region: Region) -> (&mut [T], Rest<'_, T>) {
    let Region { offset, len } = region;
    let (before, tail) = match arena.split_at_mut_checked(offset) {
        Some(parts) => parts,
        None => (&mut [][..], &mut [][..]),
    };
    let (out, after) = match tail.split_at_mut_checked(len) {
        Some(parts) => parts,
        None => (&mut [][..], &mut [][..]),
    };
    let rest = Rest {
        before,
        after,
        after_start: offset.wrapping_add(len),
    };
    (out, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn carve_gives_disjoint_views() {
        let r = |offset, len| Region { offset, len };
        let mut arena = [0i8, 1, 2, 3, 4, 5, 6, 7];
        let (out, rest) = carve(&mut arena, r(2, 3));
        assert_eq!(rest.get(r(0, 2)), &[0, 1]);
        assert_eq!(rest.get(r(5, 3)), &[5, 6, 7]);
        assert_eq!(rest.get(r(1, 2)), &[] as &[i8]); // overlaps the output
        out.copy_from_slice(&[9, 9, 9]);
        assert_eq!(Rest::whole(&arena).get(r(1, 3)), &[1, 9, 9]);
        let (_, rest) = carve(&mut arena, r(100, 3)); // out of range: empty, no panic
        assert_eq!(rest.get(r(0, 1)), &[] as &[i8]);
    }
}
