//! What the application receives and sends: whole messages on the heap, and close events.
//!
//! Plain data types; nothing here touches the protocol.

use std::fmt;

/// A whole data message (RFC 6455 §5.6), assembled on the heap and bounded by `max_length`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message: valid UTF-8.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

impl Message {
    /// The payload bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data) => data,
        }
    }

    /// The text, for a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
        }
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Message::Binary(data)
    }
}

/// The original's `close` event: the code and reason of the closing handshake, or of the failure
/// (RFC 6455 §7.1.5, §7.1.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseEvent {
    /// The close code (1005 when the peer's close frame had none).
    pub code: u16,
    /// The reason.
    pub reason: String,
}

impl fmt::Display for CloseEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.reason)
    }
}

/// The original's `error` event: what went wrong, as text (`Error during WebSocket handshake: …`,
/// a protocol violation's reason, an extension's error, an I/O error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorEvent {
    /// The message.
    pub message: String,
}

impl fmt::Display for ErrorEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ErrorEvent {}
