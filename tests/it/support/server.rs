//! The loopback server under the mocks of vendor APIs: it listens on 127.0.0.1 (a free port),
//! serves each connection on a thread of its own (keep-alive, one request after another), logs
//! every request it answers and stops when dropped. What to answer is the mock's: a *responder*
//! closure turns a request (method, path, JSON body) into the script turn it served, if any, and
//! the response bytes. Std only: TcpListener and threads.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use super::http::read_request;

/// One request a mock answered.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: Value,
    /// The script turn it was answered with, for scripted requests.
    pub turn: Option<usize>,
}

/// Answers one request: `(turn served, response bytes)`.
pub type Responder = dyn Fn(&str, &str, &Value) -> (Option<usize>, Vec<u8>) + Send + Sync;

/// A running server; stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Request>>>,
    accept: Option<JoinHandle<()>>,
}

impl MockServer {
    pub fn start(
        respond: impl Fn(&str, &str, &Value) -> (Option<usize>, Vec<u8>) + Send + Sync + 'static,
    ) -> std::io::Result<MockServer> {
        let respond: Arc<Responder> = Arc::new(respond);
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop2, log2) = (Arc::clone(&stop), Arc::clone(&log));
        let accept = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (respond, log) = (Arc::clone(&respond), Arc::clone(&log2));
                        std::thread::spawn(move || serve(conn, &*respond, &log));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(MockServer {
            addr,
            stop,
            log,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, respond: &Responder, log: &Mutex<Vec<Request>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut writer) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    while let Some((method, path, body)) = read_request(&mut reader) {
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let (turn, response) = respond(&method, &path, &body);
        log.lock().unwrap().push(Request {
            method,
            path,
            body,
            turn,
        });
        if writer
            .write_all(&response)
            .and_then(|()| writer.flush())
            .is_err()
        {
            return;
        }
    }
}
