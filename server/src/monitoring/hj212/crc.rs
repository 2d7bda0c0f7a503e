//! The HJ 212-2017 CRC (Appendix A of the standard).
//!
//! It is *not* the Modbus CRC-16 although both use the reflected polynomial 0xA001:
//! HJ 212 replaces the register by `(reg >> 8) ^ byte` where Modbus XORs the byte into
//! the low byte (`reg ^ byte`). Devices copied the standard's C code, so we must too.

/// CRC of `data` (the data segment, from `QN=` up to and including the final `&&`).
pub fn crc16(data: &[u8]) -> u16 {
    let mut reg: u16 = 0xFFFF;
    for &byte in data {
        reg = (reg >> 8) ^ u16::from(byte);
        for _ in 0..8 {
            let carry = reg & 1 == 1;
            reg >>= 1;
            if carry {
                reg ^= 0xA001;
            }
        }
    }
    reg
}

/// Parses the 4 hexadecimal digits that follow the data segment. Upper case is what the
/// standard writes; lower case is accepted because devices send it.
pub fn parse_crc(hex: &[u8]) -> Option<u16> {
    if hex.len() != 4 {
        return None;
    }
    hex.iter().try_fold(0u16, |acc, &b| {
        let digit = char::from(b).to_digit(16)?;
        // to_digit(16) is at most 15, so the cast cannot truncate.
        Some(acc << 4 | digit as u16)
    })
}

/// The CRC as the standard writes it: 4 upper-case hexadecimal digits.
pub fn format_crc(crc: u16) -> String {
    format!("{crc:04X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "QN=20160801085857223;ST=32;CN=1062;PW=100000;\
        MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";

    /// The Modbus variant, only to show that the standard's example tells them apart.
    fn modbus(data: &[u8]) -> u16 {
        let mut reg: u16 = 0xFFFF;
        for &byte in data {
            reg ^= u16::from(byte);
            for _ in 0..8 {
                let carry = reg & 1 == 1;
                reg >>= 1;
                if carry {
                    reg ^= 0xA001;
                }
            }
        }
        reg
    }

    #[test]
    fn standard_example_is_1c80() {
        assert_eq!(EXAMPLE.len(), 101);
        assert_eq!(crc16(EXAMPLE.as_bytes()), 0x1C80);
        assert_eq!(format_crc(crc16(EXAMPLE.as_bytes())), "1C80");
    }

    #[test]
    fn not_the_modbus_crc() {
        assert_eq!(modbus(EXAMPLE.as_bytes()), 0x0759);
        assert_ne!(crc16(EXAMPLE.as_bytes()), modbus(EXAMPLE.as_bytes()));
    }

    #[test]
    fn empty_input_is_the_initial_register() {
        assert_eq!(crc16(b""), 0xFFFF);
    }

    #[test]
    fn parses_either_case() {
        assert_eq!(parse_crc(b"1C80"), Some(0x1C80));
        assert_eq!(parse_crc(b"1c80"), Some(0x1C80));
        assert_eq!(parse_crc(b"abCD"), Some(0xABCD));
        assert_eq!(parse_crc(b"1C8"), None);
        assert_eq!(parse_crc(b"1C8G"), None);
        assert_eq!(parse_crc(b"+C80"), None);
        assert_eq!(format_crc(0x00AF), "00AF");
    }
}
