//! The client's side of the opening handshake in the driver (RFC 6455 §4.1; BEHAVIOUR H8–H11): the request,
//! the proxy CONNECT, and the response the application confirms with its offered subprotocols.
//!
//! Heads stay in the receive buffer while they are reported; the request goes into the transmit ring whole
//! or not at all, and frames sent before open wait behind the ring's release mark (S2).

use super::state::{Link, Phase};
use super::{Cause, Driver};
use crate::buffer::{RxBuf, TxRing};
use crate::error::SendError;
use crate::handshake::client::{ClientRequest, Offer, write_connect, write_request};
use crate::handshake::extensions::is_valid_extension_list;
use crate::handshake::head::parse_response;
use crate::handshake::url::Url;
use crate::handshake::{CustomHeaders, Response, accept};
use crate::mask_source::MaskSource;

use super::HandshakeCallError;

impl Driver {
    /// Client: the response head reported by [`Event::Response`](crate::Event::Response) while it waits for
    /// [`check_response`](Self::check_response), or the one that failed the checks, until the next
    /// `poll` (H9: status and headers stay readable after a failure).
    pub fn response<'r, S: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        rx: &'r RxBuf<S>,
    ) -> Option<Response<'r>> {
        let len = match self.link {
            Link::Connecting {
                phase: Phase::ResponseReported { len, .. },
                ..
            }
            | Link::Ended {
                head: Some(len), ..
            } => len,
            _ => return None,
        };
        parse_response(rx.readable().get(..len)?, self.config.header_limit()).ok()
    }

    /// Client: queues the opening request (H8) with a fresh key from `rng`. Frames sent before the
    /// response arrives wait behind it (S2, H10).
    pub fn start<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        request: &ClientRequest<'_>,
    ) -> Result<(), HandshakeCallError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        if self.phase() != Some(Phase::ClientIdle) {
            return Err(SendError::NotOpen.into());
        }
        CustomHeaders(request.headers)
            .check()
            .map_err(|_| SendError::InvalidHeader)?;
        if request
            .extensions
            .is_some_and(|e| !is_valid_extension_list(e))
        {
            return Err(SendError::InvalidHeader.into());
        }
        let nonce = rng.nonce();
        let key = accept::encode_nonce(&nonce);
        let offer = Offer::new(request, nonce).map_err(HandshakeCallError::Handshake)?;
        let mut out = tx.transaction();
        write_request(&mut out, request, &key).map_err(SendError::from)?;
        out.commit();
        tx.hold();
        self.set_phase(Phase::ReadResponse { scanned: 0, offer });
        Ok(())
    }

    /// Client: finishes the opening handshake after [`Event::Response`](crate::Event::Response), with the subprotocols offered
    /// to [`start`](Self::start) — the same list: the driver keeps none of it (RFC 6455 §4.1, H9). The
    /// server's choice must be one of them, compared exactly (absent is fine), and extensions may be
    /// answered only if some were offered. On success the response head is consumed, frames queued
    /// before are released (S2), [`Event::Open`](crate::Event::Open) follows at the next `poll`, and the chosen
    /// subprotocol's index in `protocols` is returned. On failure the connection is closed (the close
    /// event follows) and the head stays readable through [`response`](Self::response) until the next
    /// `poll`.
    pub fn check_response<S, T>(
        &mut self,
        rx: &mut RxBuf<S>,
        tx: &mut TxRing<T>,
        protocols: &[&str],
    ) -> Result<Option<usize>, HandshakeCallError>
    where
        S: AsRef<[u8]> + AsMut<[u8]>,
        T: AsRef<[u8]> + AsMut<[u8]>,
    {
        let Some(Phase::ResponseReported { len, offer }) = self.phase() else {
            return Err(SendError::NotOpen.into());
        };
        let checked = parse_response(
            rx.readable().get(..len).unwrap_or_default(),
            self.config.header_limit(),
        )
        .and_then(|response| offer.check_choice(&response, protocols));
        match checked {
            Ok(protocol) => {
                rx.consume(len);
                self.protocol = protocol.map(|p| p as u8);
                self.open(tx);
                Ok(protocol)
            }
            Err(e) => {
                self.end(Cause::Handshake(e));
                if let Link::Ended { head, .. } = &mut self.link {
                    *head = Some(len);
                }
                Err(HandshakeCallError::Handshake(e))
            }
        }
    }

    /// Client: queues `CONNECT` for `target` to the HTTP proxy at `proxy` (H11). After
    /// [`Event::ProxyConnected`](crate::Event::ProxyConnected) (and TLS, for `wss:`), call [`start`](Self::start).
    pub fn connect_proxy<T>(
        &mut self,
        tx: &mut TxRing<T>,
        target: &Url<'_>,
        proxy: &Url<'_>,
        headers: &[(&str, &str)],
    ) -> Result<(), HandshakeCallError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
    {
        if self.phase() != Some(Phase::ClientIdle) {
            return Err(SendError::NotOpen.into());
        }
        CustomHeaders(headers)
            .check()
            .map_err(|_| SendError::InvalidHeader)?;
        let mut out = tx.transaction();
        write_connect(&mut out, target, proxy, headers).map_err(SendError::from)?;
        out.commit();
        self.set_phase(Phase::ReadProxyResponse { scanned: 0 });
        Ok(())
    }
}
