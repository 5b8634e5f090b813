//! Stream framing for TCP push-pull: `len: u32 BE ‖ kind: u8 ‖ body`. A data frame
//! carries an envelope (see `crypto`); an error frame carries a UTF-8 reason so a
//! rejected joiner learns why (e.g. a wrong key); a response frame carries an envelope
//! holding one answer to a query (see `query`), sent to the query's originator.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest frame accepted (a full push-pull state of a big pool fits easily).
const MAX_FRAME: usize = 16 * 1024 * 1024;

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// An envelope holding an encoded message.
    Data(Vec<u8>),
    /// The peer refused the exchange.
    Error(String),
    /// An envelope holding an answer to a query.
    Response(Vec<u8>),
}

const DATA: u8 = 0;
const ERROR: u8 = 1;
const RESPONSE: u8 = 2;

/// Writes one frame.
pub(crate) async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, frame: &Frame) -> io::Result<()> {
    let (kind, body) = match frame {
        Frame::Data(body) => (DATA, body.as_slice()),
        Frame::Error(reason) => (ERROR, reason.as_bytes()),
        Frame::Response(body) => (RESPONSE, body.as_slice()),
    };
    let len = u32::try_from(body.len() + 1)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    let mut buf = Vec::with_capacity(body.len() + 5);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.push(kind);
    buf.extend_from_slice(body);
    w.write_all(&buf).await?;
    w.flush().await
}

/// Reads one frame.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Frame> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await?;
    let len = usize::try_from(u32::from_be_bytes(len)).unwrap_or(usize::MAX);
    if len == 0 || len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad frame length",
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    let rest = body.split_off(1);
    match body[0] {
        DATA => Ok(Frame::Data(rest)),
        ERROR => Ok(Frame::Error(String::from_utf8_lossy(&rest).into_owned())),
        RESPONSE => Ok(Frame::Response(rest)),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unknown frame kind {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        write_frame(&mut a, &Frame::Data(vec![1, 2, 3]))
            .await
            .unwrap();
        write_frame(&mut a, &Frame::Error("nope".into()))
            .await
            .unwrap();
        write_frame(&mut a, &Frame::Response(vec![4]))
            .await
            .unwrap();
        assert_eq!(
            read_frame(&mut b).await.unwrap(),
            Frame::Data(vec![1, 2, 3])
        );
        assert_eq!(
            read_frame(&mut b).await.unwrap(),
            Frame::Error("nope".into())
        );
        assert_eq!(read_frame(&mut b).await.unwrap(), Frame::Response(vec![4]));
    }

    #[tokio::test]
    async fn rejects_bad_lengths_and_kinds() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        a.write_all(&[0, 0, 0, 0]).await.unwrap();
        assert!(read_frame(&mut b).await.is_err());
        let (mut a, mut b) = tokio::io::duplex(1024);
        a.write_all(&[0, 0, 0, 1, 7]).await.unwrap();
        assert!(read_frame(&mut b).await.is_err());
    }
}
