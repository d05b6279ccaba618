//! A tiny HTTP/1.1 server for the download tests, on 127.0.0.1 only.
//!
//! It serves a fixed set of paths, one request per connection (`Connection: close`), and stops by
//! itself: after `MAX_REQUESTS` requests, after `LIFETIME`, or when the test drops it. A slow or
//! endless reply ends when the client hangs up, and after `LONGEST_REPLY` at the latest.

#![allow(dead_code)] // each test binary uses some of the replies

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const MAX_REQUESTS: usize = 64;
const LIFETIME: Duration = Duration::from_secs(30);
const LONGEST_REPLY: Duration = Duration::from_secs(20);

/// How the server answers one path.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with this body and its Content-Length.
    File(Vec<u8>),
    /// Announces the whole body's length, sends only the first `sent` bytes, then hangs up.
    CutOff { body: Vec<u8>, sent: usize },
    /// Sends the first `sent` bytes without a Content-Length, then hangs up (as if complete).
    CutOffUnannounced { body: Vec<u8>, sent: usize },
    /// Announces the whole body, then sends `chunk` bytes of it every `every`: a crawling host.
    Trickle {
        body: Vec<u8>,
        chunk: usize,
        every: Duration,
    },
    /// Zeros without a Content-Length, as fast as the client takes them, without end.
    Endless,
}

/// A running server; see the module docs.
pub struct Server {
    /// `http://127.0.0.1:<port>/`
    pub base_url: String,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `routes` (path without the leading `/` → reply); every other path is a 404.
    pub fn start(routes: Vec<(String, Reply)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base_url = format!("http://{}/", listener.local_addr().unwrap());
        let routes: HashMap<String, Reply> = routes.into_iter().collect();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            thread::spawn(move || {
                let deadline = Instant::now() + LIFETIME;
                let mut served = 0;
                while served < MAX_REQUESTS
                    && Instant::now() < deadline
                    && !stop.load(Ordering::Relaxed)
                {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            served += 1;
                            if let Some(path) = answer(stream, &routes) {
                                requests.lock().unwrap().push(path);
                            }
                        }
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Server {
            base_url,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    /// The paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request and answers it; returns the requested path.
fn answer(mut stream: TcpStream, routes: &HashMap<String, Reply>) -> Option<String> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let request = String::from_utf8_lossy(&request);
    let path = request
        .split_whitespace()
        .nth(1)?
        .trim_start_matches('/')
        .to_owned();
    let _ = match routes.get(&path) {
        Some(Reply::File(body)) => send(&mut stream, "200 OK", Some(body.len()), body),
        Some(Reply::CutOff { body, sent }) => {
            send(&mut stream, "200 OK", Some(body.len()), &body[..*sent])
        }
        Some(Reply::CutOffUnannounced { body, sent }) => {
            send(&mut stream, "200 OK", None, &body[..*sent])
        }
        Some(Reply::Trickle { body, chunk, every }) => trickle(&mut stream, body, *chunk, *every),
        Some(Reply::Endless) => endless(&mut stream),
        None => send(&mut stream, "404 Not Found", Some(9), b"not found"),
    };
    let _ = stream.shutdown(Shutdown::Both);
    Some(path)
}

/// Sends the head and then `body` a `chunk` at a time, one `every` so often.
fn trickle(
    stream: &mut TcpStream,
    body: &[u8],
    chunk: usize,
    every: Duration,
) -> std::io::Result<()> {
    let started = Instant::now();
    send(stream, "200 OK", Some(body.len()), &[])?;
    for piece in body.chunks(chunk.max(1)) {
        if started.elapsed() > LONGEST_REPLY {
            break;
        }
        thread::sleep(every);
        stream.write_all(piece)?; // fails once the client has hung up
        stream.flush()?;
    }
    Ok(())
}

/// Sends zeros until the client hangs up (or `LONGEST_REPLY` passes).
fn endless(stream: &mut TcpStream) -> std::io::Result<()> {
    let started = Instant::now();
    send(stream, "200 OK", None, &[])?;
    let zeros = vec![0u8; 64 * 1024];
    while started.elapsed() < LONGEST_REPLY {
        stream.write_all(&zeros)?;
    }
    Ok(())
}

fn send(
    stream: &mut TcpStream,
    status: &str,
    length: Option<usize>,
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: application/octet-stream\r\n"
    );
    if let Some(length) = length {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}
