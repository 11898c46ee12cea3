//! Builders of observed states for tests: a fresh world, a converged world, and edits.
//!
//! Available to this crate's tests and, with the `testing` feature, to other crates' tests.
//! The converged world is written from the spec directly (not through the planner), so that
//! "a converged world plans nothing" tests the planner's normalisation rather than itself.

use std::collections::BTreeMap;

use mtoctl_model::DesiredState;
use mtoctl_model::desired::{GroupRef, MappingSource, MappingSpec, UserRef};
use mtoctl_model::ids::{Alias, Guid, TenantId};
use mtoctl_model::observed::{
    AccessRuleObservation, AccessType, AssignmentObservation, AttributeMappingObservation,
    B2bPolicyObservation, FilterClauseObservation, FilterGroupObservation, GroupObservation,
    IdentitySyncObservation, IdentitySyncTemplateObservation, InboundTrustObservation,
    JoinRequestObservation, Known, MemberObservation, MemberRole, MemberState, MtoState,
    ObservedState, OrganizationObservation, PartnerObservation, PartnerSettingsObservation,
    PartnerTemplateObservation, PrincipalsObservation, SyncConfigurationDetails,
    SyncConfigurationObservation, SyncJobObservation, TemplateApplicationLevel,
    TemplatesObservation, TenantObservation, UserObservation, UserTypeMappingObservation,
};
use mtoctl_model::spec::document::{
    Access, AccessRule, B2bPolicy, FilterOperator, LeavingScope, PartnerSettings, Role, UserType,
    UserTypeApplies,
};
use sha2::{Digest, Sha256};

/// A GUID derived from `seed`: stable across runs, distinct for distinct seeds.
pub fn fake_guid(seed: &str) -> Guid {
    let digest = Sha256::digest(seed.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let text = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    Guid::parse(&text).unwrap_or_else(|| unreachable!("32 hex digits form a GUID"))
}

/// Builds an [`ObservedState`] for the tenants of a desired state.
pub struct ObservedStateBuilder<'a> {
    desired: &'a DesiredState,
    state: ObservedState,
}

impl<'a> ObservedStateBuilder<'a> {
    /// Every tenant without an organization, templates reset, no partners, no sync
    /// configurations, and every user and group the spec names resolvable.
    pub fn fresh(desired: &'a DesiredState) -> Self {
        let mut tenants = BTreeMap::new();
        for t in &desired.tenants {
            tenants.insert(
                t.alias.clone(),
                TenantObservation {
                    tenant_id: t.tenant_id.clone(),
                    organization: OrganizationObservation {
                        state: Known::Known(MtoState::Inactive),
                        id: None,
                        display_name: None,
                        description: None,
                        members: Vec::new(),
                    },
                    join_request: JoinRequestObservation {
                        added_by: None,
                        member_state: None,
                        role: None,
                        transition: None,
                    },
                    templates: TemplatesObservation {
                        partner: PartnerTemplateObservation {
                            application_level: TemplateApplicationLevel::default_level(),
                            settings: PartnerSettingsObservation::default(),
                        },
                        identity_sync: IdentitySyncTemplateObservation {
                            application_level: TemplateApplicationLevel::default_level(),
                            is_sync_allowed: None,
                        },
                    },
                    partners: BTreeMap::new(),
                    sync_configurations: Vec::new(),
                    principals: principals(desired, &t.alias),
                },
            );
        }
        Self {
            desired,
            state: ObservedState { tenants },
        }
    }

    /// The world after a successful apply of the spec and the joins completing.
    pub fn converged(desired: &'a DesiredState) -> Self {
        let mut b = Self::fresh(desired);
        let creator = desired
            .tenants
            .iter()
            .find(|t| t.role == Role::Owner)
            .map(|t| t.tenant_id.clone());
        let members: Vec<MemberObservation> = desired
            .tenants
            .iter()
            .map(|t| MemberObservation {
                tenant_id: t.tenant_id.clone(),
                display_name: t.display_name.clone(),
                role: Known::Known(role(t.role)),
                state: Known::Known(MemberState::Active),
                added_by: creator.clone(),
                transition: None,
            })
            .collect();
        for t in &desired.tenants {
            let obs = b.tenant_mut(t.alias.as_str());
            obs.organization = OrganizationObservation {
                state: Known::Known(MtoState::Active),
                id: Some(fake_guid(&format!("mto/{}", t.alias)).to_string()),
                display_name: Some(desired.organization.display_name.clone()),
                description: desired.organization.description.clone(),
                members: members.clone(),
            };
            if Some(&t.tenant_id) != creator.as_ref() {
                obs.join_request = JoinRequestObservation {
                    added_by: creator.clone(),
                    member_state: Some(Known::Known(MemberState::Active)),
                    role: Some(Known::Known(role(t.role))),
                    transition: None,
                };
            }
            if desired.collaboration.manage_templates {
                obs.templates.partner.settings = settings(&desired.collaboration.all_pairs);
                obs.templates.identity_sync.is_sync_allowed =
                    desired.collaboration.all_pairs.allow_users_sync_inbound;
            }
        }
        for (pair, want) in &desired.collaboration.pairs {
            let (Some(tenant), Some(partner)) =
                (desired.tenant(&pair.tenant), desired.tenant(&pair.partner))
            else {
                continue;
            };
            let p = PartnerObservation {
                tenant_id: partner.tenant_id.clone(),
                is_in_multi_tenant_organization: Some(true),
                is_service_provider: None,
                settings: settings(want),
                identity_sync: Some(IdentitySyncObservation {
                    display_name: Some(partner.display_name.clone()),
                    is_sync_allowed: want.allow_users_sync_inbound,
                    group_sync_inbound: want.allow_groups_sync_inbound,
                }),
            };
            b.tenant_mut(tenant.alias.as_str())
                .partners
                .insert(partner.tenant_id.clone(), p);
        }
        for s in &desired.syncs {
            let seed = format!("{}/{}", s.from, s.name);
            let role_id = fake_guid(&format!("{seed}/role")).to_string();
            let obs = b.tenant_mut(s.from.as_str());
            let mut assignments: Vec<AssignmentObservation> = Vec::new();
            for u in &s.scope.users {
                let user = match u {
                    UserRef::UserPrincipalName(upn) => obs.principals.users_by_upn.get(upn),
                    UserRef::ObjectId(id) => obs.principals.users_by_id.get(id),
                };
                if let Some(user) = user {
                    assignments.push(AssignmentObservation {
                        id: format!("assign-{}", user.id),
                        principal_id: user.id.clone(),
                        principal_type: Some("User".into()),
                        principal_display_name: user.display_name.clone(),
                        app_role_id: Some(role_id.clone()),
                    });
                }
            }
            for g in &s.scope.groups {
                let group = match g {
                    GroupRef::DisplayName(n) => {
                        obs.principals.groups_by_name.get(n).and_then(|v| v.first())
                    }
                    GroupRef::ObjectId(id) => obs.principals.groups_by_id.get(id),
                };
                if let Some(group) = group {
                    assignments.push(AssignmentObservation {
                        id: format!("assign-{}", group.id),
                        principal_id: group.id.clone(),
                        principal_type: Some("Group".into()),
                        principal_display_name: Some(group.display_name.clone()),
                        app_role_id: Some(role_id.clone()),
                    });
                }
            }
            assignments.sort_by(|a, b| a.principal_id.cmp(&b.principal_id));
            let job = SyncJobObservation {
                id: format!(
                    "Azure2Azure.{}",
                    fake_guid(&format!("{seed}/job")).as_str().replace('-', "")
                ),
                template_id: Some("Azure2Azure".into()),
                schedule_state: Some(if s.enabled { "Active" } else { "Paused" }.into()),
                status_code: Some(if s.enabled { "Active" } else { "Paused" }.into()),
                quarantine_reason: None,
                user_type: Some(UserTypeMappingObservation {
                    value: Some(match s.user_type {
                        UserType::Member => "Member".into(),
                        UserType::Guest => "Guest".into(),
                    }),
                    flow_type: Some(match s.user_type_applies {
                        UserTypeApplies::Always => "Always".into(),
                        UserTypeApplies::OnCreate => "ObjectAddOnly".into(),
                    }),
                }),
                deletes_on_leaving_scope: Some(s.on_leaving_scope == LeavingScope::SoftDelete),
                scoping_filter: s
                    .scope
                    .filter
                    .iter()
                    .map(|g| FilterGroupObservation {
                        name: g.name.clone(),
                        clauses: g
                            .clauses
                            .iter()
                            .map(|c| FilterClauseObservation {
                                attribute: c.attribute.clone(),
                                operator: wire_operator(c.operator).into(),
                                values: c.values.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
                mappings: s.mappings.iter().map(graph_mapping).collect(),
                source_attributes: Vec::new(),
                target_attributes: Vec::new(),
                groups_provisioned: Some(
                    s.scope.group_provisioning
                        == Some(mtoctl_model::spec::document::GroupProvisioning::GroupsAndMembers),
                ),
                template_mappings: Vec::new(),
            };
            obs.sync_configurations.push(SyncConfigurationObservation {
                service_principal_id: fake_guid(&format!("{seed}/sp")).to_string(),
                app_id: Some(fake_guid(&format!("{seed}/app")).to_string()),
                display_name: s.name.clone(),
                user_app_role_id: Some(role_id),
                details: Some(SyncConfigurationDetails {
                    jobs: vec![job],
                    assignments,
                }),
            });
        }
        b
    }

    /// One tenant's observation, to edit. Panics for an alias the spec does not have.
    pub fn tenant_mut(&mut self, alias: &str) -> &mut TenantObservation {
        self.state
            .tenants
            .get_mut(&Alias(alias.to_owned()))
            .unwrap_or_else(|| panic!("no tenant {alias}"))
    }

    /// The partner configuration `tenant` holds for spec tenant `partner`, to edit.
    pub fn partner_mut(&mut self, tenant: &str, partner: &str) -> &mut PartnerObservation {
        let id = self.id(partner);
        self.tenant_mut(tenant)
            .partners
            .get_mut(&id)
            .unwrap_or_else(|| panic!("no partner {partner} in {tenant}"))
    }

    /// The sync configuration named `name` in `tenant`, to edit.
    pub fn sync_mut(&mut self, tenant: &str, name: &str) -> &mut SyncConfigurationObservation {
        self.tenant_mut(tenant)
            .sync_configurations
            .iter_mut()
            .find(|c| c.display_name == name)
            .unwrap_or_else(|| panic!("no sync configuration {name} in {tenant}"))
    }

    /// The tenant id of a spec tenant.
    pub fn id(&self, alias: &str) -> TenantId {
        self.desired
            .tenant(&Alias(alias.to_owned()))
            .map(|t| t.tenant_id.clone())
            .unwrap_or_else(|| panic!("no tenant {alias}"))
    }

    /// Applies an arbitrary edit.
    pub fn with(mut self, edit: impl FnOnce(&mut Self)) -> Self {
        edit(&mut self);
        self
    }

    /// The observed state.
    pub fn build(self) -> ObservedState {
        self.state
    }
}

fn role(r: Role) -> MemberRole {
    match r {
        Role::Owner => MemberRole::Owner,
        Role::Member => MemberRole::Member,
    }
}

/// A spec mapping as Graph holds it once written: an attribute or constant source by name, an
/// expression as a function source.
pub fn graph_mapping(m: &MappingSpec) -> AttributeMappingObservation {
    let (kind, name, expression) = match &m.source {
        MappingSource::Attribute(a) => ("Attribute", a.clone(), format!("[{a}]")),
        MappingSource::Constant(c) => ("Constant", c.clone(), m.source.shown()),
        MappingSource::Expression(e) => (
            "Function",
            e.split('(').next().unwrap_or_default().trim().to_owned(),
            e.clone(),
        ),
    };
    AttributeMappingObservation {
        target: m.target.clone(),
        kind: Some(kind.into()),
        name: Some(name),
        expression: Some(expression),
        flow_type: Some(
            match m.applies {
                UserTypeApplies::Always => "Always",
                UserTypeApplies::OnCreate => "ObjectAddOnly",
            }
            .into(),
        ),
        matching_priority: Some(m.matching_precedence.map_or(0, i64::from)),
    }
}

/// Graph's spelling of scoping operators, as the emulator writes them.
fn wire_operator(op: FilterOperator) -> &'static str {
    match op {
        FilterOperator::Equals => "EQUALS",
        FilterOperator::NotEquals => "NOT_EQUALS",
        FilterOperator::IsTrue => "IS_TRUE",
        FilterOperator::IsFalse => "IS_FALSE",
        FilterOperator::IsNull => "IS_NULL",
        FilterOperator::IsNotNull => "IS_NOT_NULL",
        FilterOperator::RegexMatch => "REGEX_MATCH",
        FilterOperator::NotRegexMatch => "NOT_REGEX_MATCH",
        FilterOperator::GreaterThan => "GREATER_THAN",
        FilterOperator::GreaterThanOrEquals => "GREATER_THAN_OR_EQUALS",
        FilterOperator::LessThan => "LESS_THAN",
        FilterOperator::LessThanOrEquals => "LESS_THAN_OR_EQUALS",
    }
}

/// The observation Graph would return after the desired settings were written.
fn settings(want: &PartnerSettings) -> PartnerSettingsObservation {
    let rule = |r: &AccessRule| AccessRuleObservation {
        access: Known::Known(match r.access {
            Access::Allowed => AccessType::Allowed,
            Access::Blocked => AccessType::Blocked,
        }),
        targets: {
            let mut t = r.targets.clone();
            t.sort();
            t
        },
    };
    let b2b = |p: &B2bPolicy| B2bPolicyObservation {
        users_and_groups: Some(rule(&p.users_and_groups)),
        applications: Some(rule(&p.applications)),
    };
    let consent = want.automatic_user_consent.as_ref();
    PartnerSettingsObservation {
        automatic_user_consent_inbound: consent.and_then(|c| c.inbound),
        automatic_user_consent_outbound: consent.and_then(|c| c.outbound),
        inbound_trust: want
            .inbound_trust
            .as_ref()
            .map(|t| InboundTrustObservation {
                mfa: t.mfa,
                compliant_device: t.compliant_device,
                hybrid_joined_device: t.hybrid_joined_device,
            }),
        b2b_collaboration_inbound: want
            .b2b_collaboration
            .as_ref()
            .and_then(|b| b.inbound.as_ref())
            .map(b2b),
        b2b_collaboration_outbound: want
            .b2b_collaboration
            .as_ref()
            .and_then(|b| b.outbound.as_ref())
            .map(b2b),
        b2b_direct_connect_inbound: want
            .b2b_direct_connect
            .as_ref()
            .and_then(|b| b.inbound.as_ref())
            .map(b2b),
        b2b_direct_connect_outbound: want
            .b2b_direct_connect
            .as_ref()
            .and_then(|b| b.outbound.as_ref())
            .map(b2b),
    }
}

/// Every user and group named in the scopes of syncs from `alias`, resolvable.
fn principals(desired: &DesiredState, alias: &Alias) -> PrincipalsObservation {
    let mut out = PrincipalsObservation::default();
    for s in desired.syncs.iter().filter(|s| &s.from == alias) {
        for u in &s.scope.users {
            let user = match u {
                UserRef::UserPrincipalName(upn) => UserObservation {
                    id: fake_guid(&format!("user/{alias}/{upn}")),
                    user_principal_name: upn.clone(),
                    user_type: Some("Member".into()),
                    display_name: Some(upn.split('@').next().unwrap_or(upn).to_owned()),
                },
                UserRef::ObjectId(id) => UserObservation {
                    id: id.clone(),
                    user_principal_name: format!("{id}@{alias}.example"),
                    user_type: Some("Member".into()),
                    display_name: None,
                },
            };
            out.users_by_upn
                .insert(user.user_principal_name.to_lowercase(), user.clone());
            out.users_by_id.insert(user.id.clone(), user);
        }
        for g in &s.scope.groups {
            let group = match g {
                GroupRef::DisplayName(name) => GroupObservation {
                    id: fake_guid(&format!("group/{alias}/{name}")),
                    display_name: name.clone(),
                    member_count: None,
                },
                GroupRef::ObjectId(id) => GroupObservation {
                    id: id.clone(),
                    display_name: format!("Group {id}"),
                    member_count: None,
                },
            };
            out.groups_by_name
                .insert(group.display_name.clone(), vec![group.clone()]);
            out.groups_by_id.insert(group.id.clone(), group);
        }
    }
    out
}
