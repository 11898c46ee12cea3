//! A TCP proxy that records what goes through it each way, and a reader of the values of a key
//! in what it recorded: how `secrets.rs` and `record.rs` take the tokens the emulator issued
//! and the assertions mtoctl signed from the wire itself.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bytes seen on every connection through the proxy, per direction.
#[derive(Clone, Default)]
pub struct Recording(Arc<Mutex<Vec<Stream>>>);

/// The bytes one connection carried in one direction.
type Stream = Arc<Mutex<Vec<u8>>>;

impl Recording {
    fn new_stream(&self) -> Stream {
        let stream = Arc::new(Mutex::new(Vec::new()));
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(stream.clone());
        stream
    }

    /// What each connection carried, as text.
    pub fn streams(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|s| {
                String::from_utf8_lossy(&s.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
            })
            .collect()
    }
}

/// A TCP proxy on 127.0.0.1 in front of `upstream` that records what goes each way: the
/// requests (client assertions) and the answers (access tokens).
pub async fn recording_proxy(upstream: SocketAddr) -> (String, Recording, Recording) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    let (sent, answered) = (Recording::default(), Recording::default());
    let (s, a) = (sent.clone(), answered.clone());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                continue;
            };
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            let up = s.new_stream();
            let down = a.new_stream();
            tokio::spawn(async move { pump(&mut client_read, &mut server_write, up).await });
            tokio::spawn(async move { pump(&mut server_read, &mut client_write, down).await });
        }
    });
    (format!("http://{addr}"), sent, answered)
}

async fn pump(
    from: &mut (impl AsyncReadExt + Unpin),
    to: &mut (impl AsyncWriteExt + Unpin),
    record: Stream,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        record
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(&buf[..n]);
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Every value of `"key":"…"` (JSON) or `key=…` (form) in `text`.
pub fn values_of(text: &str, json_key: &str, form_key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (marker, end) in [
        (format!("\"{json_key}\":\""), '"'),
        (format!("{form_key}="), '&'),
    ] {
        let mut rest = text;
        while let Some(at) = rest.find(&marker) {
            rest = &rest[at + marker.len()..];
            let value: String = rest
                .chars()
                .take_while(|c| *c != end && !c.is_whitespace())
                .collect();
            if !value.is_empty() {
                out.push(value);
            }
        }
    }
    out
}
