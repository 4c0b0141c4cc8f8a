//! The send path's one write: a whole frame straight into the ring (RFC 6455 §5.2, §5.3).

use super::{TxError, TxRing};
use crate::wire::{FrameHeader, mask};

impl<S: AsRef<[u8]> + AsMut<[u8]>> TxRing<S> {
    /// Driver side: a whole WebSocket frame — `header`, then `payload`, masked with the header's key
    /// when it has one (RFC 6455 §5.3) — written straight into the ring in one pass, or nothing.
    ///
    /// # Errors
    ///
    /// As [`frame`](Self::frame) for the frame's whole size.
    #[inline]
    pub(crate) fn put_frame(
        &mut self,
        header: &FrameHeader,
        payload: &[u8],
    ) -> Result<(), TxError> {
        let header_len = header.encoded_len();
        let size = header_len + payload.len();
        if size > self.free() {
            // Which error: only here, off the common path.
            self.check(size)?;
        }
        // On bare metal one path for every frame, the general one below: 300 bytes of flash less.
        if cfg!(target_os = "none") {
            return self.put_frame_wrapped(header, payload, size);
        }
        let start = self.tail();
        match self.storage.as_mut().get_mut(start..start + size) {
            // Contiguous (always, when the ring was empty: it rewinds): no temporary header.
            Some(out) => {
                let (head, body) = out.split_at_mut(header_len);
                header.encode(head);
                match header.mask {
                    Some(key) => {
                        // Out of line, so that this function stays small enough to inline into
                        // the send path (a server never masks).
                        mask::copy_masked_shared(body, payload, key, 0);
                    }
                    None => body.copy_from_slice(payload),
                }
                self.len += size;
                self.written += size as u64;
            }
            None => self.put_frame_wrapped(header, payload, size)?,
        }
        Ok(())
    }

    /// [`put_frame`](Self::put_frame) across the end of the storage (on bare metal: anywhere), through
    /// a temporary header.
    #[cfg_attr(not(target_os = "none"), cold)]
    #[inline(never)]
    fn put_frame_wrapped(
        &mut self,
        header: &FrameHeader,
        payload: &[u8],
        size: usize,
    ) -> Result<(), TxError> {
        let mut writer = self.frame(size)?;
        writer.put(header.to_bytes().as_bytes());
        match header.mask {
            Some(key) => {
                writer.put_masked(payload, key, 0);
            }
            None => writer.put(payload),
        }
        writer.commit();
        Ok(())
    }
}
