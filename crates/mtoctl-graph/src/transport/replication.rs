//! Replication lag after creates: what this client created moments ago, so that a 404 on it
//! is retried as lag instead of read as absence.

use std::time::Instant;

use reqwest::Method;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{GraphClient, GraphRequest};

impl GraphClient {
    /// Remembers what a successful create made (the path written, and every object id in the
    /// answer, such as the service principal an `instantiate` returns), so that a 404 on it soon
    /// after is read as replication lag. `body` is the answer's JSON text; it is read only for
    /// a create (POST or PUT), and then only for its ids.
    pub(super) fn note_created(&self, tenant: &str, request: &GraphRequest, body: &[u8]) {
        if request.method != Method::POST && request.method != Method::PUT {
            return;
        }
        let mut keys = vec![
            request
                .path
                .split('?')
                .next()
                .unwrap_or(&request.path)
                .to_owned(),
        ];
        // A body that is not JSON names no ids; the path is still noted.
        let mut de = serde_json::Deserializer::from_slice(body);
        let _ = Ids {
            found: &mut keys,
            is_id: false,
        }
        .deserialize(&mut de);
        let mut created = self.inner.created.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        for key in keys {
            created.insert((tenant.to_owned(), key), now);
        }
    }

    /// Notes that this client deleted the object `id`: a 404 on it or under it is absence
    /// from now on, not replication lag, even under a parent created moments ago (a job this
    /// run made and deleted for a twin, on a configuration it made).
    pub fn note_deleted(&self, tenant: &str, id: &str) {
        self.inner
            .deleted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((tenant.to_owned(), id.to_owned()));
    }

    /// Whether `path` is something created here moments ago: the very path a create wrote
    /// (a PUT singleton such as an identity sync policy), or a path under a top-level object
    /// whose id a create returned (`/servicePrincipals/{new id}/…`). Children of a created
    /// object are not covered: a member missing under a new organization is really missing,
    /// and retrying it as lag would stall for the whole replication window.
    pub(super) fn recently_created(&self, tenant: &str, path: &str) -> bool {
        let window = self.inner.config.retry.replication_window;
        let path = path.split('?').next().unwrap_or(path);
        let top_level_id = path.split('/').nth(2);
        let deleted = self.inner.deleted.lock().unwrap_or_else(|e| e.into_inner());
        if !deleted.is_empty()
            && path
                .split('/')
                .any(|segment| deleted.contains(&(tenant.to_owned(), segment.to_owned())))
        {
            return false;
        }
        drop(deleted);
        let created = self.inner.created.lock().unwrap_or_else(|e| e.into_inner());
        created.iter().any(|((t, key), at)| {
            t == tenant
                && at.elapsed() < window
                && (path == key || top_level_id == Some(key.as_str()))
        })
    }
}

/// Collects the `id` strings of a JSON object and of the objects among its members, at any
/// depth (not inside arrays), without building the JSON; everything else is skipped.
struct Ids<'a> {
    found: &'a mut Vec<String>,
    /// Whether this value is a member named `id`.
    is_id: bool,
}

impl<'de> DeserializeSeed<'de> for Ids<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Ids<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if self.is_id {
            self.found.push(v.to_owned());
        }
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            map.next_value_seed(Ids {
                found: &mut *self.found,
                is_id: key == "id",
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(json: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut de = serde_json::Deserializer::from_str(json);
        let _ = Ids {
            found: &mut found,
            is_id: false,
        }
        .deserialize(&mut de);
        found
    }

    #[test]
    fn a_404_under_what_this_client_deleted_is_absence_not_lag() {
        let client = GraphClient::builder(
            reqwest::Client::new(),
            crate::endpoints::Endpoints::default(),
            crate::transport::ClientConfig::default(),
        )
        .build();
        let instantiate = GraphRequest::new(Method::POST, "/applicationTemplates/x/instantiate");
        client.note_created("t", &instantiate, br#"{"servicePrincipal":{"id":"sp"}}"#);
        let job = GraphRequest::new(Method::POST, "/servicePrincipals/sp/synchronization/jobs");
        client.note_created("t", &job, br#"{"id":"job"}"#);
        let schema = "/servicePrincipals/sp/synchronization/jobs/job/schema";
        assert!(
            client.recently_created("t", schema),
            "under a new configuration"
        );
        assert!(!client.recently_created("u", schema), "another tenant's");
        // The job is deleted (a twin's): its schema is gone, the configuration's lag still holds.
        client.note_deleted("t", "job");
        assert!(!client.recently_created("t", schema));
        assert!(client.recently_created("t", "/servicePrincipals/sp/synchronization/secrets"));
        client.note_deleted("t", "sp");
        assert!(!client.recently_created("t", "/servicePrincipals/sp/synchronization/secrets"));
    }

    #[test]
    fn a_creates_ids_are_found_in_nested_objects_but_not_in_arrays() {
        assert_eq!(
            ids(r#"{"id":"a","servicePrincipal":{"id":"b","x":{"id":"c"}},
                    "list":[{"id":"not"}],"n":1,"t":true,"z":null,"s":"id"}"#),
            ["a", "b", "c"]
        );
        assert!(ids(r#"[{"id":"a"}]"#).is_empty());
        assert!(ids(r#""id""#).is_empty());
        assert!(ids("not json").is_empty());
    }
}
