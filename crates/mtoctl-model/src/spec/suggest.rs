//! "Did you mean …?" suggestions for misspelled names.

/// The candidate closest to `input`, if it is close enough to be a plausible typo.
///
/// Matching ignores case, so `tenantID` suggests `tenantId`. A candidate is plausible when its
/// edit distance is at most a third of the longer name (and at least one edit is allowed).
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lowered = input.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (levenshtein(&lowered, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (input.chars().count().max(c.chars().count()) / 3).max(1))
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Up to `n` candidates plausibly meant by `input` (as [`did_you_mean`] judges), closest first.
pub fn closest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let lowered = input.to_lowercase();
    let mut ranked: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (levenshtein(&lowered, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (input.chars().count().max(c.chars().count()) / 3).max(1))
        .collect();
    ranked.sort();
    ranked.dedup();
    ranked.into_iter().take(n).map(|(_, c)| c).collect()
}

/// Edit distance in characters; inputs here are short names, so the simple table is fine.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_few_come_first() {
        let names = [
            "bob@contoso.com",
            "bobby@contoso.com",
            "alice@contoso.com",
            "bo@contoso.com",
        ];
        assert_eq!(
            closest("bobb@contoso.com", names, 2),
            vec!["bob@contoso.com", "bobby@contoso.com"]
        );
        assert!(closest("zed@fabrikam.com", names, 3).is_empty());
    }

    #[test]
    fn suggests_close_names_only() {
        let fields = ["tenantId", "displayName", "role", "auth"];
        assert_eq!(did_you_mean("tenantID", fields), Some("tenantId"));
        assert_eq!(did_you_mean("tenatId", fields), Some("tenantId"));
        assert_eq!(did_you_mean("displayname", fields), Some("displayName"));
        assert_eq!(did_you_mean("colour", fields), None);
    }

    #[test]
    fn distance_is_symmetric_and_exact() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("sitting", "kitten"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
    }
}
