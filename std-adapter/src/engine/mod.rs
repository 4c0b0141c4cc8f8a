//! The connection engine: one WebSocket connection over the core, with the heap the core does without —
//! buffers that grow on demand and shrink after use, whole messages, the extension pipeline
//! (permessage-deflate), and the sends made before open (RFC 6455 §4, §5, §7, §9; BEHAVIOUR S2).
//!
//! A pull API with no I/O, no callbacks and no clock of its own: the caller reads into
//! [`read_buf`](Engine::read_buf) and [`commit`](Engine::commit)s, takes events from
//! [`next_event`](Engine::next_event), writes [`output`](Engine::output) and
//! [`consume_output`](Engine::consume_output)s what was written, and passes the time in. Every byte on
//! the wire is decided by the core; nothing here makes a protocol decision of its own.
//!
//! # Bounded memory
//! - The receive buffer is released when the caller says the connection is idle ([`Engine::idle`]), and
//!   grows on demand only up to [`Limits::max_read`]; a message larger than that arrives from the core in
//!   chunks and is assembled once, up to `max_length`.
//! - Output the peer causes (pongs, the close echo) is bounded: once more than [`Limits::high_water`]
//!   of it is unwritten, `next_event` stops reading input and [`wants_read`](Engine::wants_read) is
//!   false until the caller has written it out. Output the application causes (sends) is the
//!   application's to bound, with [`buffered_amount`](Engine::buffered_amount); it never stops
//!   reading, so two ends sending large messages at once from split halves do not wait on each other.
//!   Nor do two that also ping each other hard meanwhile: once the unwritten replies behind such a
//!   message pass half the mark, a new pong replaces the unsent one before it (RFC 6455 §5.5.3 lets
//!   an endpoint answer only the most recent ping), so pongs stop piling up and reading goes on.

mod accept;
mod buffers;
mod client_upgrade;
mod incoming;
mod outgoing;
mod replies;
mod upgrade;

use std::collections::VecDeque;
use std::fmt;

use rand::SeedableRng;
use rand::rngs::StdRng;
use websocket_driver::mask_source::RandCore;
use websocket_driver::{
    ClientRequest, Driver as Core, HandshakeError, Instant, MaskSource, ProtocolError, Role, RxBuf,
    SendError, State, TxRing, Url, Version,
};

use crate::extensions::Extensions;
use crate::message::{CloseEvent, Message};
use crate::options::Options;

pub use buffers::Limits;
pub use incoming::RequestHead;
pub use upgrade::Upgrade;

/// What the engine reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Server, raw mode: a request head arrived (H6a). For an upgrade, answer with
    /// [`Engine::accept`] or [`Engine::refuse`]; any other request's body follows as [`Event::Body`].
    Connect(RequestHead),
    /// Server: body bytes of a request that was not an upgrade (H6), as they arrive.
    Body(Vec<u8>),
    /// Client: the proxy opened the tunnel (H11); call [`Engine::start`] (after TLS for `wss:`).
    ProxyConnected,
    /// The opening handshake completed; sends made before went out (S2).
    Open,
    /// A whole message, after the extensions (RFC 6455 §5.6, §9).
    Message(Message),
    /// A ping; its pong is already queued (F13).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// The connection closed (RFC 6455 §7.1.5); nothing follows.
    Close(CloseEvent),
    /// Something failed; the close event follows (S6).
    Error(Error),
}

/// How a server answers a request it has looked at ([`Engine::decide`]; issue: Origin checks and
/// authentication before accepting, RFC 6455 §10.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Accept, with the subprotocol chosen from the ones the client offered (none: no subprotocol) and
    /// extra response headers.
    Accept {
        /// The subprotocol (H4); ignored unless the client offered it.
        protocol: Option<String>,
        /// Extra response headers (H1).
        headers: Vec<(String, String)>,
    },
    /// Refuse with a status, headers and a body (403 for a foreign `Origin`, 401 with
    /// `WWW-Authenticate`…).
    Refuse {
        /// The HTTP status.
        status: u16,
        /// Extra response headers.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
}

impl Decision {
    /// Accept with no subprotocol and no extra header.
    pub fn accept() -> Self {
        Decision::Accept {
            protocol: None,
            headers: Vec::new(),
        }
    }

    /// Accept with this subprotocol, if the client offered it.
    pub fn accept_protocol(protocol: &str) -> Self {
        Decision::Accept {
            protocol: Some(protocol.to_owned()),
            headers: Vec::new(),
        }
    }

    /// Refuse with `status` and a text body.
    pub fn refuse(status: u16, body: &str) -> Self {
        Decision::Refuse {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }
}

/// Why something failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke RFC 6455 (S6).
    Protocol(ProtocolError),
    /// The opening handshake failed (H3, H9).
    Handshake(HandshakeError),
    /// Extensions could not be negotiated or failed on a message (X2, X4); the connection was failed
    /// with `code` (1010 unless the extension said otherwise: 1009, 1007).
    Extension {
        /// The close code sent (RFC 6455 §7.4.1).
        code: u16,
        /// What failed.
        reason: String,
    },
    /// The connection is closed, or not open for this yet: nothing was sent (S7).
    Closed,
    /// The core refused a send: a control payload over 125 bytes, a close code that must not be sent
    /// (F17)…
    Send(SendError),
    /// A request head or an answer could not be made (an invalid header, say).
    Refused(String),
    /// The HTTP proxy refused the tunnel (H11) with `status`; its headers are in
    /// [`Engine::headers`].
    ProxyRefused {
        /// The proxy's status.
        status: u16,
        /// The WebSocket URL we tried to reach.
        url: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol(e) => fmt::Display::fmt(e, f),
            Error::Handshake(e) => write!(f, "Error during WebSocket handshake: {e}"),
            Error::Extension { reason, .. } => f.write_str(reason),
            Error::Closed => f.write_str("the connection is closed"),
            Error::Send(e) => fmt::Display::fmt(e, f),
            Error::Refused(reason) => f.write_str(reason),
            Error::ProxyRefused { url, .. } => {
                write!(f, "Can't establish a connection to the server at {url}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Masking keys and nonces (RFC 6455 §5.3, §10.3): a client's come from a ChaCha generator seeded by
/// the OS; a server never masks, so it holds no generator.
enum Masks {
    Server,
    Client(Box<RandCore<StdRng>>),
}

impl MaskSource for Masks {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        match self {
            Masks::Client(rng) => rng.fill_bytes(dest),
            // A server never masks (RFC 6455 §5.1): never called.
            Masks::Server => dest.fill(0),
        }
    }
}

/// A send made before open, sent at open (S2).
enum Queued {
    Message(Message),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<u16>, String),
}

/// A client's handshake data, until `start`.
struct ClientSetup {
    url: String,
    headers: Vec<(String, String)>,
    proxy: Option<(String, Vec<(String, String)>)>,
}

/// One WebSocket connection: the core driver, its buffers, the extension pipeline and message assembly.
pub struct Engine {
    core: Core,
    rx: RxBuf<Vec<u8>>,
    tx: TxRing<Vec<u8>>,
    masks: Masks,
    limits: Limits,
    options: Options,
    extensions: Extensions,
    incoming: Option<incoming::Incoming>,
    queue: VecDeque<Queued>,
    /// Events decided outside `poll` (an extension failure while sending), returned first.
    pending: VecDeque<Event>,
    client: Option<ClientSetup>,
    /// Server: custom response headers (H1).
    custom_headers: Vec<(String, String)>,
    /// The subprotocol negotiated (H4), where the engine rather than the core holds it: a server, or
    /// a client whose HTTP stack upgraded.
    protocol: Option<String>,
    /// A client's checks of the response, while its HTTP stack carries the upgrade.
    upgrade_offer: Option<websocket_driver::handshake::client::Offer>,
    status: Option<u16>,
    response_headers: Vec<(String, String)>,
    started: bool,
    closed_reported: bool,
    /// The automatic replies among the output: only they stop reading.
    replies: replies::Replies,
    /// Bytes at the front of the output lent out by [`lend_output`](Engine::lend_output) and not
    /// consumed yet: no pong among them is replaced.
    lent: usize,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("role", &self.core.role())
            .field("state", &self.core.state())
            .field("rx", &self.rx)
            .field("tx", &self.tx)
            .field("extensions", &self.extensions)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// A server that reads the request from the byte stream (raw mode, H6a).
    pub fn server(options: Options) -> Self {
        let core = Core::server(options.config());
        Engine::new(core, Masks::Server, options)
    }

    /// A client for `url` (`ws:` or `wss:`, H8); [`start`](Self::start) queues the request.
    pub fn client(url: &str, options: Options) -> Result<Self, Error> {
        Url::parse_ws(url).map_err(|e| Error::Refused(format!("Invalid WebSocket URL: {e}")))?;
        let core = Core::client(options.config());
        let masks = Masks::Client(Box::new(RandCore(StdRng::from_os_rng())));
        let mut engine = Engine::new(core, masks, options);
        engine.client = Some(ClientSetup {
            url: url.to_owned(),
            headers: Vec::new(),
            proxy: None,
        });
        Ok(engine)
    }

    fn new(core: Core, masks: Masks, options: Options) -> Self {
        Engine {
            core,
            rx: RxBuf::new(Vec::new()),
            tx: TxRing::new(Vec::new()),
            masks,
            limits: Limits::from_options(&options),
            options,
            extensions: Extensions::new(),
            incoming: None,
            queue: VecDeque::new(),
            pending: VecDeque::new(),
            client: None,
            custom_headers: Vec::new(),
            protocol: None,
            upgrade_offer: None,
            status: None,
            response_headers: Vec::new(),
            started: false,
            closed_reported: false,
            replies: replies::Replies::default(),
            lent: 0,
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.core.role()
    }

    /// The connection state (S1).
    pub fn state(&self) -> State {
        self.core.state()
    }

    /// The protocol version (V1, V3).
    pub fn version(&self) -> Version {
        self.core.version()
    }

    /// The negotiated subprotocol (H4).
    pub fn protocol(&self) -> Option<&str> {
        match self.core.role() {
            Role::Server => self.protocol.as_deref(),
            Role::Client => self.protocol.as_deref().or_else(|| {
                self.core
                    .protocol()
                    .and_then(|i| self.options.protocols.get(i))
                    .map(String::as_str)
            }),
        }
    }

    /// Client: the response status, once the response arrived (also after a failed handshake, H9).
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Client: the response headers, in order (also after a failed handshake, H9).
    pub fn headers(&self) -> &[(String, String)] {
        &self.response_headers
    }

    /// The extensions registered and, once negotiated, active (X1).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Registers an extension (X1), before the handshake starts. False after the start, or when one
    /// with the same name is registered.
    pub fn add_extension(&mut self, extension: Box<dyn crate::Extension>) -> bool {
        !self.started && self.extensions.add(extension).is_ok()
    }

    /// Adds a header to our handshake (H1), before it starts. Refuses a name that is not a token and a
    /// value with CR, LF or NUL.
    pub fn set_header(&mut self, name: &str, value: &str) -> bool {
        if self.started || !websocket_driver::handshake::is_valid_header(name, value) {
            return false;
        }
        let entry = (name.to_owned(), value.to_owned());
        match &mut self.client {
            Some(client) => client.headers.push(entry),
            None => self.custom_headers.push(entry),
        }
        true
    }

    /// Client: goes through the HTTP proxy at `url` (H11) with `headers`; [`Event::ProxyConnected`]
    /// follows the proxy's 200, then call [`start`](Self::start).
    pub fn connect_proxy(&mut self, url: &str, headers: &[(&str, &str)]) -> Result<(), Error> {
        let Some(target) = self.client.as_ref().map(|c| c.url.clone()) else {
            return Err(Error::Closed);
        };
        let proxy =
            Url::parse(url).map_err(|e| Error::Refused(format!("Invalid proxy URL: {e}")))?;
        let target = Url::parse_ws(&target)
            .map_err(|e| Error::Refused(format!("Invalid WebSocket URL: {e}")))?;
        self.buffers_for_poll();
        let size = 512
            + url.len()
            + headers
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>();
        self.grow_tx(size);
        self.core
            .connect_proxy(&mut self.tx, &target, &proxy, headers)
            .map_err(|e| Error::Refused(e.to_string()))?;
        if let Some(client) = &mut self.client {
            client.proxy = Some((
                url.to_owned(),
                headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
            ));
        }
        Ok(())
    }

    /// Client: the HTTP proxy's URL, once [`connect_proxy`](Self::connect_proxy) set one.
    pub fn proxy(&self) -> Option<&str> {
        self.client
            .as_ref()?
            .proxy
            .as_ref()
            .map(|(url, _)| url.as_str())
    }

    /// Client: queues the opening request (H8) with the extension offer (X1); sends made before open
    /// wait for the handshake (S2).
    pub fn start(&mut self) -> Result<(), Error> {
        let Some((url_text, custom)) = self
            .client
            .as_ref()
            .map(|c| (c.url.clone(), c.headers.clone()))
        else {
            return Err(Error::Closed);
        };
        if self.started && self.core.state() != State::Connecting {
            return Err(Error::Closed);
        }
        let url = Url::parse_ws(&url_text)
            .map_err(|e| Error::Refused(format!("Invalid WebSocket URL: {e}")))?;
        let offer = match self.extensions.generate_offer() {
            Ok(offer) => offer,
            Err(e) => {
                // H1: an offer that cannot be written into the head is not sent; the error is reported.
                let error = Error::Extension {
                    code: 1010,
                    reason: e.to_string(),
                };
                self.pending.push_back(Event::Error(error.clone()));
                return Err(error);
            }
        };
        let size: usize = 512
            + url_text.len()
            + offer.as_deref().map_or(0, str::len)
            + custom
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>()
            + self
                .options
                .protocols
                .iter()
                .map(|p| p.len() + 2)
                .sum::<usize>();
        self.buffers_for_poll();
        self.grow_tx(size);
        let protocols: Vec<&str> = self.options.protocols.iter().map(String::as_str).collect();
        let headers: Vec<(&str, &str)> = custom
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = ClientRequest {
            url: &url,
            protocols: &protocols,
            headers: &headers,
            extensions: offer.as_deref(),
        };
        self.core
            .start(&mut self.tx, &mut self.masks, &request)
            .map_err(|e| Error::Refused(e.to_string()))?;
        self.started = true;
        Ok(())
    }

    /// Whether the caller should read more input now: the connection is not closed, and the replies
    /// the peer made us queue (pongs, the close echo) are under the high-water mark — a peer that
    /// does not read them stops our reading. The application's own messages never stop reading.
    pub fn wants_read(&self) -> bool {
        self.core.state() != State::Closed && !self.replies_over_high_water()
    }

    /// Whether the unwritten replies are over the high-water mark.
    fn replies_over_high_water(&self) -> bool {
        self.replies.unsent() > self.limits.high_water as u64
    }

    /// Whether a ping's pong should replace an unsent one (RFC 6455 §5.5.3, the core's
    /// `coalesce_pongs`): the unwritten replies are past half the high-water mark behind output of our
    /// own. Both ends sending a large message while pinging each other would otherwise each stop
    /// reading at the mark, with its pongs queued behind its own message, and neither message would
    /// drain. A peer that floods pings and reads nothing, with nothing of ours queued, still stops our
    /// reading at the mark.
    ///
    /// Never while the ring's last `MIN_TX_CAPACITY` bytes (a maximal control frame), where the pong to
    /// replace lies, may be lent out ([`lend_output`](Engine::lend_output)): a copy being written
    /// would no longer match.
    fn pongs_pile_up(&self) -> bool {
        let replies = self.replies.unsent();
        replies > self.limits.high_water as u64 / 2
            && self.tx.len() as u64 > replies
            && self.tx.len() >= self.lent + websocket_driver::MIN_TX_CAPACITY
    }

    /// The size of our pong frame for a ping of `payload` bytes (≤ 125: a 2-byte header, and a 4-byte
    /// key from a masking client; RFC 6455 §5.2).
    fn pong_len(&self, payload: usize) -> u64 {
        let key = if self.core.role() == Role::Client && self.options.masking {
            4
        } else {
            0
        };
        (2 + key + payload) as u64
    }

    /// Whether the transport should be closed now: the closing handshake is over (S8), or the connection
    /// failed — once the output is written.
    pub fn should_close(&self) -> bool {
        self.core.should_close_transport()
    }

    /// The next instant a timer fires (handshake deadline, keepalive, closing deadline, S8).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.core.poll_timeout()
    }

    /// Time has passed: the core handles what fell due; the events follow from
    /// [`next_event`](Self::next_event).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.core.handle_timeout(now);
    }

    /// Whether the connection ended because a timer ran out (handshake, keepalive, closing deadline):
    /// the peer is gone or does not answer, so output still queued need not wait for it.
    pub fn timed_out(&self) -> bool {
        self.core.timeout().is_some()
    }

    /// The opening handshake ran out of time (`Options::handshake_timeout`).
    pub(crate) fn handshake_timed_out(&self) -> bool {
        matches!(
            self.core.handshake_failure(),
            Some(websocket_driver::HandshakeError::Timeout)
        )
    }

    /// Drops the output not yet written: for a connection that ended while its peer stopped reading
    /// (see [`timed_out`](Self::timed_out)), whose transport is closed next.
    pub fn discard_output(&mut self) {
        let n = self.tx.len();
        self.consume_output(n);
    }

    /// The caller has nothing to read right now: the buffers are released if they are empty, so an idle
    /// connection holds no buffer at all.
    pub fn idle(&mut self) {
        self.release_buffers();
    }
}
