//! The LAN9118's register map and the one place that touches it: volatile 32-bit reads and writes at
//! the chip's base address.
//!
//! Offsets and bit names follow the SMSC LAN9118 datasheet ("Register Description": the
//! system control and status registers, SCSRs, and the MAC control and status registers,
//! reached indirectly through `MAC_CSR_CMD` / `MAC_CSR_DATA`). Only what the polled driver uses is here.
//! Nothing here knows about frames or smoltcp.

use core::ptr::{read_volatile, write_volatile};

// ===== system control and status registers: byte offsets from the base =====

/// `RX_DATA_FIFO`: received frame data, one 32-bit word per read (0x00–0x1C all alias it).
pub const RX_DATA_FIFO: usize = 0x00;
/// `TX_DATA_FIFO`: TX command A, TX command B, then frame data words (0x20–0x3C all alias it).
pub const TX_DATA_FIFO: usize = 0x20;
/// `RX_STATUS_FIFO`: one status word per received frame; reading pops it.
pub const RX_STATUS_FIFO: usize = 0x40;
/// `INT_EN`: interrupt enables (all off: the driver polls).
pub const INT_EN: usize = 0x5C;
/// `BYTE_TEST`: reads 0x8765_4321 when the bus works and the byte order is right.
pub const BYTE_TEST: usize = 0x64;
/// `TX_CFG`: transmitter configuration.
pub const TX_CFG: usize = 0x70;
/// `HW_CFG`: hardware configuration, including the soft reset.
pub const HW_CFG: usize = 0x74;
/// `RX_FIFO_INF`: how much the receive FIFOs hold.
pub const RX_FIFO_INF: usize = 0x7C;
/// `TX_FIFO_INF`: how much room the transmit data FIFO has.
pub const TX_FIFO_INF: usize = 0x80;
/// `PMT_CTRL`: power management, including the "device ready" flag.
pub const PMT_CTRL: usize = 0x84;
/// `MAC_CSR_CMD`: starts a read or write of a MAC register.
pub const MAC_CSR_CMD: usize = 0xA4;
/// `MAC_CSR_DATA`: the value of that MAC register read or write.
pub const MAC_CSR_DATA: usize = 0xA8;

/// The value `BYTE_TEST` always reads.
pub const BYTE_TEST_VALUE: u32 = 0x8765_4321;

/// `HW_CFG.SRST`: soft reset; the chip clears it when the reset is done.
pub const HW_CFG_SRST: u32 = 1 << 0;
/// `PMT_CTRL.READY`: set once the chip may be accessed after a reset.
pub const PMT_CTRL_READY: u32 = 1 << 0;
/// `TX_CFG.TX_ON`: enables the transmitter.
pub const TX_CFG_TX_ON: u32 = 1 << 1;
/// `TX_CFG.TXSAO`: lets the TX status FIFO overrun, so a driver that never reads it keeps sending.
pub const TX_CFG_TXSAO: u32 = 1 << 2;

/// `RX_FIFO_INF.RXSUSED`: the number of status words (= received frames) waiting.
pub const fn rx_status_used(rx_fifo_inf: u32) -> u32 {
    (rx_fifo_inf >> 16) & 0xFF
}

/// `TX_FIFO_INF.TDFREE`: free bytes in the TX data FIFO.
pub const fn tx_data_free(tx_fifo_inf: u32) -> usize {
    (tx_fifo_inf & 0xFFFF) as usize
}

// ===== the RX status word (the datasheet's "RX Status Format") =====

/// Packet length (bits 29:16), in bytes, including the 4-byte frame check sequence.
pub const fn rx_status_length(status: u32) -> usize {
    ((status >> 16) & 0x3FFF) as usize
}

/// Error status (bit 15): a CRC error, a runt, a too-long frame, a collision…
pub const RX_STATUS_ES: u32 = 1 << 15;

// ===== the TX command words (the datasheet's "TX Command 'A'" and "TX Command 'B'") =====

/// TX command A, `FIRST SEGMENT` (bit 13): this buffer starts a frame.
pub const TX_CMD_A_FIRST_SEGMENT: u32 = 1 << 13;
/// TX command A, `LAST SEGMENT` (bit 12): this buffer ends the frame.
pub const TX_CMD_A_LAST_SEGMENT: u32 = 1 << 12;

/// TX command A for a frame sent as a single buffer of `len` bytes (bits 10:0 "Buffer Size"), with
/// data start offset 0 and 4-byte end alignment (bits 20:16 and 25:24 left at 0).
pub const fn tx_command_a(len: usize) -> u32 {
    TX_CMD_A_FIRST_SEGMENT | TX_CMD_A_LAST_SEGMENT | (len as u32 & 0x7FF)
}

/// TX command B: a packet tag (bits 31:16, echoed in the TX status; the length, for a debugger) and
/// the frame length (bits 10:0 "Packet Length"). CRC generation and padding stay on.
pub const fn tx_command_b(len: usize) -> u32 {
    ((len as u32 & 0xFFFF) << 16) | (len as u32 & 0x7FF)
}

// ===== MAC control and status registers (indices for MAC_CSR_CMD) =====

/// `MAC_CSR_CMD.CSR_BUSY` (bit 31): set to start an access; the chip clears it when done.
pub const MAC_CSR_BUSY: u32 = 1 << 31;
/// `MAC_CSR_CMD.R/nW` (bit 30): 1 reads the MAC register, 0 writes it.
pub const MAC_CSR_READ: u32 = 1 << 30;

/// `MAC_CR`: MAC control.
pub const MAC_CR: u8 = 1;
/// `ADDRH`: the upper two bytes of the MAC address (loaded from the EEPROM at reset).
pub const MAC_ADDRH: u8 = 2;
/// `ADDRL`: the lower four bytes of the MAC address.
pub const MAC_ADDRL: u8 = 3;

/// `MAC_CR.RXEN` (bit 2): receiver enable.
pub const MAC_CR_RXEN: u32 = 1 << 2;
/// `MAC_CR.TXEN` (bit 3): transmitter enable.
pub const MAC_CR_TXEN: u32 = 1 << 3;
/// `MAC_CR.FDPX` (bit 20): full duplex.
pub const MAC_CR_FDPX: u32 = 1 << 20;

/// The LAN9118's register block at a fixed address.
///
/// A plain address: copying it is how the receive and transmit tokens reach the FIFOs.
#[derive(Clone, Copy, Debug)]
pub struct Regs {
    base: usize,
}

impl Regs {
    /// The register block at `base`.
    ///
    /// # Safety
    /// `base` must be the address of a LAN9118's register block (0x100 bytes of device memory), and
    /// nothing but this driver may access it while a `Regs` for it exists.
    pub const unsafe fn new(base: usize) -> Self {
        Regs { base }
    }

    /// Reads the register at byte offset `offset`.
    pub fn read(self, offset: usize) -> u32 {
        debug_assert!(offset < 0x100 && offset.is_multiple_of(4));
        // SAFETY: `new`'s contract: `base + offset` is an aligned register of the chip, device
        // memory that a volatile 32-bit read may access at any time (a FIFO read pops it, by design).
        unsafe { read_volatile((self.base + offset) as *const u32) }
    }

    /// Writes `value` to the register at byte offset `offset`.
    pub fn write(self, offset: usize, value: u32) {
        debug_assert!(offset < 0x100 && offset.is_multiple_of(4));
        // SAFETY: as in `read`; no Rust object lives at a device address, so nothing aliases it.
        unsafe { write_volatile((self.base + offset) as *mut u32, value) }
    }
}
