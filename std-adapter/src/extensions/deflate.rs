//! Placeholder while permessage-deflate is written.
use super::*;
/// Placeholder.
pub struct PermessageDeflate;
impl PermessageDeflate {
    /// Placeholder.
    pub fn new() -> Self { PermessageDeflate }
}
impl Extension for PermessageDeflate {
    fn name(&self) -> &str { "permessage-deflate" }
    fn rsv(&self) -> u8 { 0x40 }
    fn client_session(&self) -> Box<dyn ClientSession> { todo!() }
    fn server_session(&self, _: &[&Params]) -> Option<Box<dyn ServerSession>> { None }
}
