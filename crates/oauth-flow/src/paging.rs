//! Bounds for walks that follow a server's "next page" links: a broken or hostile server can
//! answer every page with a link to one more, so a helper that collects "all pages" stops at a
//! bound with a typed error instead of buffering without end or truncating in silence.

use std::fmt;

/// Bounds on a walk over pages. Defaults: [`DEFAULT_MAX_PAGES`](Self::DEFAULT_MAX_PAGES)
/// pages and [`DEFAULT_MAX_ITEMS`](Self::DEFAULT_MAX_ITEMS) items.
///
/// A walk that collects items checks both; a streaming walk, which holds one page at a time,
/// checks the page bound only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct PageLimits {
    max_pages: usize,
    max_items: usize,
}

impl Default for PageLimits {
    fn default() -> Self {
        Self {
            max_pages: Self::DEFAULT_MAX_PAGES,
            max_items: Self::DEFAULT_MAX_ITEMS,
        }
    }
}

impl PageLimits {
    /// The default bound on pages fetched by one walk.
    pub const DEFAULT_MAX_PAGES: usize = 100;
    /// The default bound on items collected by one walk.
    pub const DEFAULT_MAX_ITEMS: usize = 10_000;

    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// At most `n` pages are requested (at least 1).
    pub fn max_pages(mut self, n: usize) -> Self {
        self.max_pages = n.max(1);
        self
    }
    /// At most `n` items are collected.
    pub fn max_items(mut self, n: usize) -> Self {
        self.max_items = n;
        self
    }
    /// The page bound.
    pub fn pages(&self) -> usize {
        self.max_pages
    }
    /// The item bound.
    pub fn items(&self) -> usize {
        self.max_items
    }

    /// Whether another page may be requested after `fetched` pages.
    pub fn check_pages(&self, fetched: usize) -> Result<(), PageLimitExceeded> {
        if fetched >= self.max_pages {
            return Err(PageLimitExceeded {
                bound: PageBound::Pages,
                max: self.max_pages,
            });
        }
        Ok(())
    }

    /// Whether `held` collected items are within the item bound.
    pub fn check_items(&self, held: usize) -> Result<(), PageLimitExceeded> {
        if held > self.max_items {
            return Err(PageLimitExceeded {
                bound: PageBound::Items,
                max: self.max_items,
            });
        }
        Ok(())
    }
}

/// Which bound of [`PageLimits`] a walk reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageBound {
    /// The number of pages.
    Pages,
    /// The number of items.
    Items,
}

impl fmt::Display for PageBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pages => "pages",
            Self::Items => "items",
        })
    }
}

/// A walk over pages reached a bound while the server still offered more; what was fetched is
/// dropped rather than returned as if it were everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server offers more than {max} {bound}; raise the page limits or stream the pages")]
#[non_exhaustive]
pub struct PageLimitExceeded {
    /// The bound reached.
    pub bound: PageBound,
    /// Its value.
    pub max: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked_at_their_value() {
        let l = PageLimits::new().max_pages(3).max_items(10);
        assert!(l.check_pages(2).is_ok());
        let err = l.check_pages(3).unwrap_err();
        assert_eq!((err.bound, err.max), (PageBound::Pages, 3));
        assert!(l.check_items(10).is_ok());
        assert_eq!(l.check_items(11).unwrap_err().bound, PageBound::Items);
        assert_eq!(PageLimits::new().max_pages(0).pages(), 1);
        assert_eq!(
            (PageLimits::default().pages(), PageLimits::default().items()),
            (100, 10_000)
        );
    }
}
