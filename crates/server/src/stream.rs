//! A client socket, TCP or Unix, with the readiness-based I/O the connection loop uses.

use std::io;

use tokio::net::{TcpStream, UnixStream};

pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub async fn readable(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.readable().await,
            Stream::Unix(s) => s.readable().await,
        }
    }

    pub async fn writable(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.writable().await,
            Stream::Unix(s) => s.writable().await,
        }
    }

    /// Reads what the socket has. A read that does not fill `buf` emptied the socket's
    /// receive queue, so the socket's readiness is cleared too (as tokio's `poll_read` does,
    /// and `try_read` does not): the connection then waits for the next readiness event
    /// instead of finding the socket still marked readable and paying a read that fails with
    /// EAGAIN once per request batch. Data arriving meanwhile raises a new event, so nothing
    /// is missed.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        use tokio::io::Interest;
        let mut short_read = 0;
        let mut read = |fd: i32| {
            // SAFETY: `buf` is valid for `buf.len()` bytes of writes; `fd` is this socket's.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let n = n as usize;
            if n > 0 && n < buf.len() {
                short_read = n;
                // Reported as "would block" so that tokio clears the readiness.
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(n)
        };
        let result = match self {
            Stream::Tcp(s) => s.try_io(Interest::READABLE, || read(s.as_raw_fd())),
            Stream::Unix(s) => s.try_io(Interest::READABLE, || read(s.as_raw_fd())),
        };
        match result {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && short_read > 0 => Ok(short_read),
            other => other,
        }
    }

    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.try_write(buf),
            Stream::Unix(s) => s.try_write(buf),
        }
    }

    pub fn raw_fd(&self) -> i64 {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(s) => s.as_raw_fd() as i64,
            Stream::Unix(s) => s.as_raw_fd() as i64,
        }
    }
}
