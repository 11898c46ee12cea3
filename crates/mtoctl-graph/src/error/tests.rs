use std::fmt;

use super::*;

/// hyper-util's connector error: a message, and the OS error under it.
#[derive(Debug)]
struct Connect(&'static str, std::io::Error);

impl fmt::Display for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Connect {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.1)
    }
}

#[test]
fn failures_are_told_apart_from_their_cause_chain() {
    use std::io::{Error, ErrorKind};
    let refused = Connect(
        "tcp connect error",
        Error::new(
            ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        ),
    );
    assert_eq!(NetworkFailure::of(&refused), NetworkFailure::Refused);
    // What getaddrinfo says for a name that does not resolve, offline or not.
    let dns = Connect(
        "dns error",
        Error::other("failed to lookup address information: Name or service not known"),
    );
    assert_eq!(NetworkFailure::of(&dns), NetworkFailure::Dns);
    let again = Error::other("failed to lookup address information: Temporary failure");
    assert_eq!(NetworkFailure::of(&again), NetworkFailure::Dns);
    let tls = Error::new(
        ErrorKind::InvalidData,
        "invalid peer certificate: UnknownIssuer",
    );
    assert_eq!(NetworkFailure::of(&tls), NetworkFailure::Tls);
    let timeout = Error::new(ErrorKind::TimedOut, "connection timed out");
    assert_eq!(NetworkFailure::of(&timeout), NetworkFailure::Timeout);
    let reset = Error::new(ErrorKind::ConnectionReset, "connection reset by peer");
    assert_eq!(NetworkFailure::of(&reset), NetworkFailure::Closed);
    assert_eq!(
        NetworkFailure::of(&Error::other("something else")),
        NetworkFailure::Other
    );
}

#[test]
fn a_network_error_names_the_url_and_chains_its_cause() {
    use std::error::Error as _;
    let cause = std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "invalid peer certificate: UnknownIssuer",
    );
    let e = NetworkError::new(Service::Graph, "https://graph.example", cause);
    assert_eq!(e.kind, NetworkFailure::Tls);
    assert_eq!(
        e.to_string(),
        "Microsoft Graph at https://graph.example: the TLS handshake failed (invalid peer certificate: UnknownIssuer)"
    );
    let source = e.source().expect("chained");
    assert!(source.downcast_ref::<std::io::Error>().is_some());

    let graph = GraphError::GaveUp {
        tenant: "contoso".into(),
        method: "POST".into(),
        path: "/$batch".into(),
        attempts: 3,
        elapsed: Duration::from_millis(750),
        last: Box::new(GraphError::Transport {
            tenant: "contoso".into(),
            method: "POST".into(),
            path: "/$batch".into(),
            cause: NetworkError::timeout(Service::Graph, "http://127.0.0.1:9"),
        }),
    };
    assert_eq!(
        graph.to_string(),
        "tenant contoso: POST /$batch still failing after 3 attempts over 750ms; last error: got no answer from Microsoft Graph at http://127.0.0.1:9: timed out"
    );
    assert_eq!(
        graph.network().map(|n| n.kind),
        Some(NetworkFailure::Timeout)
    );
    assert_eq!(
        graph.unreachable().as_deref(),
        Some(
            "tenant contoso: no answer from Microsoft Graph at http://127.0.0.1:9: timed out, after 3 attempts over 750ms"
        )
    );
    // The chain: GaveUp → Transport → NetworkError.
    let transport = graph.source().expect("last error");
    let network = transport.source().expect("network error");
    assert!(network.downcast_ref::<NetworkError>().is_some());

    // An item of a $batch that got no answer fails the same way, under its own path.
    let item = graph.for_request("GET", "/users?$filter=a%20eq%20'b'");
    assert_eq!(
        item.to_string(),
        "tenant contoso: GET /users?$filter=a eq 'b' still failing after 3 attempts over 750ms; last error: got no answer from Microsoft Graph at http://127.0.0.1:9: timed out"
    );
}

#[test]
fn paths_are_shown_decoded() {
    let e = StatusError {
        tenant: "t".into(),
        method: "GET".into(),
        path: "/servicePrincipals?$filter=applicationTemplateId%20eq%20'518e'&$select=id%2CappId"
            .into(),
        status: 400,
        code: "BadRequest".into(),
        message: "no".into(),
        request_id: None,
        retry_after: None,
    };
    assert_eq!(
        e.to_string(),
        "tenant t: GET /servicePrincipals?$filter=applicationTemplateId eq '518e'&$select=id,appId failed with HTTP 400 BadRequest: no"
    );
    // Nothing that would break a line, or is not text, is decoded.
    assert_eq!(shown("/x?a=%0Ab"), "/x?a=%0Ab");
    assert_eq!(shown("/x?a=%FF"), "/x?a=%FF");
    assert_eq!(shown("/x?a=b"), "/x?a=b");
}

#[test]
fn durations_read_well() {
    assert_eq!(Human(Duration::from_millis(250)).to_string(), "250ms");
    assert_eq!(Human(Duration::from_millis(1500)).to_string(), "1.5s");
    assert_eq!(Human(Duration::from_secs(125)).to_string(), "2m05s");
    assert_eq!(Human(Duration::from_secs(5400)).to_string(), "1h30m");
    assert_eq!(Human(Duration::from_secs(5)).to_string(), "5s");
    assert_eq!(Human(Duration::from_secs(900)).to_string(), "15m");
    assert_eq!(Human(Duration::from_secs(7200)).to_string(), "2h");
}
