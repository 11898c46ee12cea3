//! The benchmark scenarios of performance-model.md §7 (B1, B2, B3, B4, B4g), their reduced
//! variants for CI, and scaling to a smaller size when the full one does not fit a machine.
//!
//! A scenario is only a shape (who syncs whom, how many principals); `worlds` turns it into a
//! world and a spec, `model` into counts and bounds.

use serde::Serialize;

/// Who syncs to whom, and how many principals each direction scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Shape {
    /// Tenant 0 is the hub (and MTO owner); every spoke sends `per_spoke` principals to the hub,
    /// the hub sends the same `per_hub` principals to every spoke.
    Hub {
        /// Tenants, the hub included.
        tenants: usize,
        /// Principals each spoke sends to the hub.
        per_spoke: u64,
        /// Principals the hub sends to every spoke.
        per_hub: u64,
    },
    /// Every tenant sends the same `per_tenant` principals to every other tenant.
    Mesh {
        /// Tenants.
        tenants: usize,
        /// Principals each tenant sends to each other tenant.
        per_tenant: u64,
    },
}

impl Shape {
    /// Number of tenants.
    pub fn tenants(&self) -> usize {
        match *self {
            Shape::Hub { tenants, .. } | Shape::Mesh { tenants, .. } => tenants,
        }
    }
}

/// A named scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// `B1`, `B2`, … (with a suffix when reduced).
    pub name: String,
    /// The shape; for group scope the principals are groups.
    pub shape: Shape,
    /// Group scope: users per group (the scope lists groups, not users).
    pub group_members: Option<u64>,
    /// Whether this is the full size of §7 (false when scaled down).
    pub full_size: bool,
}

/// The five scenarios of §7 at full size.
pub fn all() -> Vec<Scenario> {
    ["B1", "B2", "B3", "B4", "B4g"]
        .iter()
        .filter_map(|n| by_name(n))
        .collect()
}

/// A §7 scenario by name (case-insensitive).
pub fn by_name(name: &str) -> Option<Scenario> {
    let (shape, group_members) = match name.to_ascii_uppercase().as_str() {
        "B1" => (
            Shape::Mesh {
                tenants: 2,
                per_tenant: 250,
            },
            None,
        ),
        "B2" => (
            Shape::Hub {
                tenants: 20,
                per_spoke: 500,
                per_hub: 500,
            },
            None,
        ),
        "B3" => (
            Shape::Mesh {
                tenants: 20,
                per_tenant: 500,
            },
            None,
        ),
        "B4" => (
            Shape::Hub {
                tenants: 100,
                per_spoke: 1000,
                per_hub: 1000,
            },
            None,
        ),
        "B4G" => (
            Shape::Hub {
                tenants: 100,
                per_spoke: 10,
                per_hub: 10,
            },
            Some(100),
        ),
        _ => return None,
    };
    let canonical = if name.eq_ignore_ascii_case("b4g") {
        "B4g".to_owned()
    } else {
        name.to_ascii_uppercase()
    };
    Some(Scenario {
        name: canonical,
        shape,
        group_members,
        full_size: true,
    })
}

impl Scenario {
    /// A copy with each principal count (per direction, or the group members for group scope)
    /// passed through `shrink`.
    fn resized(&self, shrink: impl Fn(u64) -> u64) -> Scenario {
        let mut out = self.clone();
        match (&mut out.shape, &mut out.group_members) {
            (_, Some(members)) => *members = shrink(*members),
            (
                Shape::Hub {
                    per_spoke, per_hub, ..
                },
                None,
            ) => {
                *per_spoke = shrink(*per_spoke);
                *per_hub = shrink(*per_hub);
            }
            (Shape::Mesh { per_tenant, .. }, None) => *per_tenant = shrink(*per_tenant),
        }
        out
    }

    /// The same topology with `fraction` of the principals per direction (at least 20), or of
    /// the group members for group scope. `1.0` is the identity.
    pub fn scaled(&self, fraction: f64) -> Scenario {
        if (fraction - 1.0).abs() < f64::EPSILON {
            return self.clone();
        }
        let shrink = |n: u64| ((n as f64 * fraction).round() as u64).max(20).min(n);
        let mut out = self.resized(shrink);
        out.full_size = false;
        out.name = format!("{}@{}", self.name, fraction);
        out
    }

    /// The same topology with exactly `fraction` of the principals per direction (at least
    /// one; of the group members for group scope), unlike [`Self::scaled`]'s floor of 20: the
    /// growth runs measure B4 at 1 % (10 users each way). Named with a percentage (`B4@1%`).
    pub fn fraction(&self, fraction: f64) -> Scenario {
        let shrink = |n: u64| ((n as f64 * fraction).round() as u64).clamp(1, n);
        let mut out = self.resized(shrink);
        out.full_size = (fraction - 1.0).abs() < f64::EPSILON;
        out.name = format!("{}@{}%", self.name, fraction * 100.0);
        out
    }

    /// The reduced B2 of the CI quick mode: a hub with `tenants` tenants and `per` principals
    /// each way.
    pub fn reduced_hub(tenants: usize, per: u64) -> Scenario {
        Scenario {
            name: format!("B2-reduced-{tenants}x{per}"),
            shape: Shape::Hub {
                tenants,
                per_spoke: per,
                per_hub: per,
            },
            group_members: None,
            full_size: false,
        }
    }

    /// Principals each direction adds (and removes) in the incremental run: 1 %, at least one.
    pub fn churn(n: u64) -> u64 {
        (n / 100).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_are_exact_down_to_one() {
        let b4 = by_name("B4").expect("B4");
        let one = b4.fraction(0.01);
        assert_eq!(one.name, "B4@1%");
        assert_eq!(
            one.shape,
            Shape::Hub {
                tenants: 100,
                per_spoke: 10,
                per_hub: 10
            }
        );
        assert!(b4.fraction(1.0).full_size);
        let b1 = by_name("B1").expect("B1").fraction(0.001);
        assert_eq!(
            b1.shape,
            Shape::Mesh {
                tenants: 2,
                per_tenant: 1
            }
        );
    }
}
