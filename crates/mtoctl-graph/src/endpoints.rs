//! Where Graph and the login authority are: Microsoft's global cloud by default, or overrides
//! (`--graph-url`, `--login-url`, `MTOCTL_GRAPH_URL`, `MTOCTL_LOGIN_URL`) such as the emulator.
//!
//! Plain HTTP is accepted only for loopback hosts: a token must never cross a network in clear.

use url::Url;

use crate::error::AuthError;

/// The default Graph root.
pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com";
/// The default login authority.
pub const LOGIN_DEFAULT: &str = "https://login.microsoftonline.com";

/// Graph's API version path segment used for every call but those a spec's beta opt-in sends
/// to [`BETA_VERSION`].
pub const API_VERSION: &str = "v1.0";
/// Graph's beta API version path segment.
pub const BETA_VERSION: &str = "beta";

/// The two base URLs mtoctl talks to. Only [`Endpoints::new`] and `Default` make one (the fields
/// are crate-private), so every value outside this crate has passed the HTTPS check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Graph root, without the version segment (`https://graph.microsoft.com`).
    pub(crate) graph: Url,
    /// Login authority (`https://login.microsoftonline.com`).
    pub(crate) login: Url,
    /// The Graph root as the user wrote it, for messages.
    graph_given: String,
    /// The login authority as the user wrote it, for messages.
    login_given: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            graph: Url::parse(GRAPH_DEFAULT).expect("constant URL"),
            login: Url::parse(LOGIN_DEFAULT).expect("constant URL"),
            graph_given: GRAPH_DEFAULT.to_owned(),
            login_given: LOGIN_DEFAULT.to_owned(),
        }
    }
}

impl Endpoints {
    /// Endpoints with optional overrides, each validated.
    pub fn new(graph: Option<&str>, login: Option<&str>) -> Result<Self, AuthError> {
        let defaults = Self::default();
        let (graph, graph_given) = match graph {
            Some(g) => {
                let url = parse_endpoint("Graph URL", g)?;
                let given = as_given(g, &url);
                (url, given)
            }
            None => (defaults.graph, defaults.graph_given),
        };
        let (login, login_given) = match login {
            Some(l) => {
                let url = parse_endpoint("login URL", l)?;
                let given = as_given(l, &url);
                (url, given)
            }
            None => (defaults.login, defaults.login_given),
        };
        Ok(Self {
            graph,
            login,
            graph_given,
            login_given,
        })
    }

    /// The Graph root as the user gave it (`--graph-url`, `MTOCTL_GRAPH_URL` or the default),
    /// for messages: `http://127.0.0.1:4000`, not a rewritten or normalised form.
    pub fn graph_as_given(&self) -> &str {
        &self.graph_given
    }

    /// The login authority as the user gave it (`--login-url`, `MTOCTL_LOGIN_URL` or the
    /// default), for messages. Never the placeholder azure_identity is handed for loopback.
    pub fn login_as_given(&self) -> &str {
        &self.login_given
    }

    /// Whether Graph is on a loopback address (the emulator).
    pub fn graph_is_loopback(&self) -> bool {
        is_loopback(&self.graph)
    }

    /// Whether the login authority is on a loopback address (the emulator).
    pub fn login_is_loopback(&self) -> bool {
        is_loopback(&self.login)
    }

    /// The Graph root.
    pub fn graph(&self) -> &Url {
        &self.graph
    }

    /// The login authority.
    pub fn login(&self) -> &Url {
        &self.login
    }

    /// Whether the login authority is plain HTTP on loopback (the emulator).
    pub fn login_is_loopback_http(&self) -> bool {
        // Checked again here, not only in `new`: this decides where client secrets are sent.
        self.login.scheme() == "http" && is_loopback(&self.login)
    }

    /// The absolute URL of a path relative to the Graph version root (`/users?$top=1`).
    pub fn graph_url(&self, relative: &str) -> Result<Url, url::ParseError> {
        self.graph_url_in(API_VERSION, relative)
    }

    /// The absolute URL of a path relative to the root of API version `version` (`v1.0` or
    /// `beta`).
    pub fn graph_url_in(&self, version: &str, relative: &str) -> Result<Url, url::ParseError> {
        let base = self.graph.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/{version}{relative}"))
    }

    /// The part of an absolute Graph URL (an `@odata.nextLink`) after the version root, so it
    /// can go into a `$batch`. `None` when the link points somewhere else, which mtoctl refuses
    /// to follow.
    pub fn relative_of(&self, absolute: &str) -> Option<String> {
        let link = Url::parse(absolute).ok()?;
        let same_origin = link.scheme() == self.graph.scheme()
            && link.host_str() == self.graph.host_str()
            && link.port_or_known_default() == self.graph.port_or_known_default();
        if !same_origin {
            return None;
        }
        let path = link.path();
        let base_path = self.graph.path().trim_end_matches('/');
        let rest = path.strip_prefix(base_path)?;
        let rest = rest
            .strip_prefix(&format!("/{API_VERSION}"))
            .or_else(|| rest.strip_prefix("/beta"))?;
        Some(match link.query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_owned(),
        })
    }
}

fn parse_endpoint(what: &str, text: &str) -> Result<Url, AuthError> {
    let url = Url::parse(text.trim_end_matches('/'))
        .map_err(|e| AuthError::Endpoint(format!("the {what} `{text}` is not a URL: {e}")))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(AuthError::Endpoint(format!(
            "the {what} `{text}` uses plain HTTP to a host that is not loopback; use https (plain HTTP is only for 127.0.0.1, ::1 and localhost)"
        ))),
        other => Err(AuthError::Endpoint(format!(
            "the {what} `{text}` has scheme `{other}`; use https"
        ))),
    }
}

/// `text` as written, for messages: without surrounding blanks or a trailing `/`, and without
/// a user name or password should the URL carry one (those are never shown).
fn as_given(text: &str, url: &Url) -> String {
    if !url.username().is_empty() || url.password().is_some() {
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return shown.as_str().trim_end_matches('/').to_owned();
    }
    text.trim().trim_end_matches('/').to_owned()
}

/// Whether a URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(Endpoints::new(Some("http://127.0.0.1:8080"), Some("http://localhost:9")).is_ok());
        assert!(Endpoints::new(Some("http://[::1]:8080"), None).is_ok());
        let err = Endpoints::new(Some("http://graph.example.com"), None).expect_err("refused");
        assert!(err.to_string().contains("not loopback"), "{err}");
        assert!(Endpoints::new(None, Some("http://10.0.0.1")).is_err());
        assert!(Endpoints::new(None, Some("ftp://127.0.0.1")).is_err());
        assert!(Endpoints::new(Some("https://graph.example.com"), None).is_ok());
    }

    #[test]
    fn graph_urls_and_next_links() {
        let e = Endpoints::new(Some("http://127.0.0.1:4000"), None).expect("ok");
        assert_eq!(
            e.graph_url("/users?$top=5").expect("url").as_str(),
            "http://127.0.0.1:4000/v1.0/users?$top=5"
        );
        assert_eq!(
            e.relative_of("http://127.0.0.1:4000/v1.0/users?$skiptoken=abc")
                .as_deref(),
            Some("/users?$skiptoken=abc")
        );
        assert_eq!(e.relative_of("http://127.0.0.1:4001/v1.0/users"), None);
        assert_eq!(e.relative_of("https://evil.example/v1.0/users"), None);
    }

    #[test]
    fn urls_are_named_as_given() {
        let e =
            Endpoints::new(Some("http://LOCALHOST:4000/"), Some("http://127.0.0.1:9")).expect("ok");
        assert_eq!(e.graph_as_given(), "http://LOCALHOST:4000");
        assert_eq!(e.login_as_given(), "http://127.0.0.1:9");
        assert!(e.graph_is_loopback() && e.login_is_loopback());
        let d = Endpoints::default();
        assert_eq!(d.graph_as_given(), GRAPH_DEFAULT);
        assert_eq!(d.login_as_given(), LOGIN_DEFAULT);
        assert!(!d.graph_is_loopback());
        // A password in a URL is never shown.
        let p = Endpoints::new(Some("https://me:hunter2@graph.example"), None).expect("ok");
        assert_eq!(p.graph_as_given(), "https://graph.example");
    }
}
