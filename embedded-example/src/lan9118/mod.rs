//! A polled driver for the SMSC LAN9118 Ethernet controller, as smoltcp's [`phy::Device`].
//!
//! No interrupts, no DMA, no allocation: frames move through the chip's FIFOs by programmed I/O, one
//! 32-bit word at a time, into and out of two frame buffers the caller provides ([`Frames`]). The
//! bring-up is the datasheet's minimum for a link that is already up (QEMU's is, from reset): a real
//! board would also configure the PHY through `MII_ACC` and wait for auto-negotiation.
//!
//! Never blocks for long: the only waits are bounded spins on the chip's "done" flags.

mod regs;

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

pub use regs::Regs;

/// The largest Ethernet frame handled, without the FCS: 14 bytes of header and a 1500-byte MTU.
pub const MAX_FRAME: usize = 1514;

/// Frame buffer size: the largest frame plus its 4-byte FCS, rounded up to whole FIFO words.
const FRAME_BUF: usize = 1520;

/// How many times a wait on the chip polls its flag before giving up.
const SPIN_LIMIT: u32 = 1_000_000;

/// The two frame buffers of the driver, in a static the caller owns (3 KiB of RAM).
pub struct Frames {
    rx: [u8; FRAME_BUF],
    tx: [u8; FRAME_BUF],
}

impl Frames {
    /// Zeroed buffers (a `const fn`, so a static of this lives in `.bss`).
    pub const fn new() -> Self {
        Frames {
            rx: [0; FRAME_BUF],
            tx: [0; FRAME_BUF],
        }
    }
}

/// Why the chip could not be brought up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InitError {
    /// `BYTE_TEST` did not read 0x8765_4321: no LAN9118 at that address, or a wrong bus setup.
    NotFound(u32),
    /// A flag the chip should have set or cleared never changed (named by its register).
    Timeout(&'static str),
}

impl core::fmt::Display for InitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InitError::NotFound(value) => write!(f, "BYTE_TEST reads {value:#010x}: no LAN9118"),
            InitError::Timeout(flag) => write!(f, "{flag} did not change"),
        }
    }
}

/// The LAN9118, brought up and enabled: frames can be sent and received.
pub struct Lan9118 {
    regs: Regs,
    frames: &'static mut Frames,
    mac: [u8; 6],
}

impl Lan9118 {
    /// Resets the chip and enables its transmitter and receiver.
    pub fn init(regs: Regs, frames: &'static mut Frames) -> Result<Self, InitError> {
        // BYTE_TEST is readable even before the chip is ready, and proves we talk to a LAN9118.
        let test = regs.read(regs::BYTE_TEST);
        if test != regs::BYTE_TEST_VALUE {
            return Err(InitError::NotFound(test));
        }
        // Soft reset (HW_CFG.SRST): clears the FIFOs and the MAC; the bit clears itself when done.
        regs.write(regs::HW_CFG, regs::HW_CFG_SRST);
        spin_until(
            || regs.read(regs::HW_CFG) & regs::HW_CFG_SRST == 0,
            "HW_CFG.SRST",
        )?;
        // Other registers may only be used once PMT_CTRL.READY is set.
        spin_until(
            || regs.read(regs::PMT_CTRL) & regs::PMT_CTRL_READY != 0,
            "PMT_CTRL.READY",
        )?;
        // Polled: no interrupt sources (INT_EN all zero).
        regs.write(regs::INT_EN, 0);

        // The reset loaded the MAC address from the EEPROM into ADDRL (bytes 0–3, byte 0 in the low
        // bits) and ADDRH (bytes 4–5). Without an EEPROM it is not a usable unicast address: then
        // take a locally administered one.
        let low = mac_read(regs, regs::MAC_ADDRL)?.to_le_bytes();
        let high = mac_read(regs, regs::MAC_ADDRH)?.to_le_bytes();
        let mut mac = [low[0], low[1], low[2], low[3], high[0], high[1]];
        if mac == [0; 6] || mac == [0xFF; 6] || mac[0] & 1 != 0 {
            mac = [0x02, 0x00, 0x00, 0x00, 0x91, 0x18];
            mac_write(
                regs,
                regs::MAC_ADDRL,
                u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]),
            )?;
            mac_write(
                regs,
                regs::MAC_ADDRH,
                u32::from(mac[4]) | u32::from(mac[5]) << 8,
            )?;
        }

        // MAC_CR: transmitter and receiver on, full duplex. Everything else off, which also turns
        // off the promiscuous mode (PRMS) the reset leaves on: only frames for our address and
        // broadcasts (ARP) are received.
        mac_write(
            regs,
            regs::MAC_CR,
            regs::MAC_CR_TXEN | regs::MAC_CR_RXEN | regs::MAC_CR_FDPX,
        )?;
        // TX_CFG: start the transmitter, and let the TX status FIFO overrun (TXSAO) since this driver
        // never reads transmit statuses.
        regs.write(regs::TX_CFG, regs::TX_CFG_TX_ON | regs::TX_CFG_TXSAO);
        Ok(Lan9118 { regs, frames, mac })
    }

    /// The MAC address in use.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Pops the next good frame from the RX FIFOs into the receive buffer; its length without the
    /// FCS. Frames with errors, or too long for the buffer, are read out and dropped.
    fn receive_frame(&mut self) -> Option<usize> {
        let regs = self.regs;
        // RX_FIFO_INF.RXSUSED counts the status words waiting, one per received frame.
        while regs::rx_status_used(regs.read(regs::RX_FIFO_INF)) > 0 {
            // The status word (RX_STATUS_FIFO) gives the frame's length, FCS included.
            let status = regs.read(regs::RX_STATUS_FIFO);
            let len = regs::rx_status_length(status);
            let words = len.div_ceil(4);
            let good = status & regs::RX_STATUS_ES == 0 && (14 + 4..=FRAME_BUF).contains(&len);
            if !good {
                // The frame's data words must still leave the RX data FIFO.
                for _ in 0..words {
                    regs.read(regs::RX_DATA_FIFO);
                }
                continue;
            }
            // RX_DATA_FIFO yields the frame 4 bytes per read, first byte in the low bits.
            for word in self.frames.rx[..words * 4].chunks_exact_mut(4) {
                word.copy_from_slice(&regs.read(regs::RX_DATA_FIFO).to_le_bytes());
            }
            return Some(len - 4);
        }
        None
    }
}

/// Writes one frame into the TX data FIFO: command A, command B, then the data words.
fn transmit_frame(regs: Regs, frame: &[u8]) {
    let len = frame.len();
    // TX_FIFO_INF.TDFREE: room for the two command words and the data, rounded up to words. The
    // FIFO drains at line rate; QEMU empties it as soon as the last word is written.
    let needed = 8 + len.next_multiple_of(4);
    if spin_until(
        || regs::tx_data_free(regs.read(regs::TX_FIFO_INF)) >= needed,
        "TX_FIFO_INF",
    )
    .is_err()
    {
        return; // dropped, like a frame lost on the wire: TCP retransmits it
    }
    regs.write(regs::TX_DATA_FIFO, regs::tx_command_a(len));
    regs.write(regs::TX_DATA_FIFO, regs::tx_command_b(len));
    for chunk in frame.chunks(4) {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        regs.write(regs::TX_DATA_FIFO, u32::from_le_bytes(word));
    }
}

/// Reads MAC register `index` through MAC_CSR_CMD / MAC_CSR_DATA.
fn mac_read(regs: Regs, index: u8) -> Result<u32, InitError> {
    mac_wait(regs)?;
    // CSR_BUSY starts the access, R/nW = 1 makes it a read; the value lands in MAC_CSR_DATA.
    regs.write(
        regs::MAC_CSR_CMD,
        regs::MAC_CSR_BUSY | regs::MAC_CSR_READ | u32::from(index),
    );
    mac_wait(regs)?;
    Ok(regs.read(regs::MAC_CSR_DATA))
}

/// Writes `value` to MAC register `index` through MAC_CSR_DATA / MAC_CSR_CMD.
fn mac_write(regs: Regs, index: u8, value: u32) -> Result<(), InitError> {
    mac_wait(regs)?;
    regs.write(regs::MAC_CSR_DATA, value);
    // CSR_BUSY with R/nW = 0: write MAC_CSR_DATA to the register.
    regs.write(regs::MAC_CSR_CMD, regs::MAC_CSR_BUSY | u32::from(index));
    mac_wait(regs)
}

/// Waits for MAC_CSR_CMD.CSR_BUSY to clear (the previous MAC register access is done).
fn mac_wait(regs: Regs) -> Result<(), InitError> {
    spin_until(
        || regs.read(regs::MAC_CSR_CMD) & regs::MAC_CSR_BUSY == 0,
        "MAC_CSR_CMD.CSR_BUSY",
    )
}

/// Polls `done` up to [`SPIN_LIMIT`] times.
fn spin_until(mut done: impl FnMut() -> bool, what: &'static str) -> Result<(), InitError> {
    for _ in 0..SPIN_LIMIT {
        if done() {
            return Ok(());
        }
    }
    Err(InitError::Timeout(what))
}

// ===== smoltcp's view: a device with tokens =====

impl phy::Device for Lan9118 {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        let len = self.receive_frame()?;
        // The received frame and the reply's buffer are separate: smoltcp writes its reply while it
        // still reads the frame.
        let Frames { rx, tx } = &mut *self.frames;
        Some((
            RxToken { frame: &rx[..len] },
            TxToken {
                regs: self.regs,
                buffer: tx,
            },
        ))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        Some(TxToken {
            regs: self.regs,
            buffer: &mut self.frames.tx,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        // No burst limit: the chip's RX data FIFO (about 10 KiB after reset) holds more than the
        // TCP window smoltcp advertises (the socket's receive buffer).
        caps
    }
}

/// A received frame, already out of the chip.
pub struct RxToken<'a> {
    frame: &'a [u8],
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

/// Room for one frame to send: smoltcp fills the buffer, then it goes into the TX FIFO.
pub struct TxToken<'a> {
    regs: Regs,
    buffer: &'a mut [u8; FRAME_BUF],
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        // smoltcp never asks for more than the MTU the capabilities announce.
        let frame = &mut self.buffer[..len.min(MAX_FRAME)];
        let result = f(frame);
        transmit_frame(self.regs, frame);
        result
    }
}
