//! Commands: which `CN`s carry pollutant data and of which kinds, their readings as
//! records in UTC, facility status (2021), the data reply (9014), and the upload packet
//! the simulator sends.

use thiserror::Error;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::cp::{Cp, ReadingKind};
use super::encode::{encode_packet, EncodeError};
use super::packet::{Flag, Packet};
use super::time::{format_qn, to_utc};

pub const CN_REALTIME: u16 = 2011;
pub const CN_FACILITY_STATUS: u16 = 2021;
pub const CN_DAILY: u16 = 2031;
pub const CN_FACILITY_RUNTIME: u16 = 2041;
pub const CN_MINUTE: u16 = 2051;
pub const CN_HOURLY: u16 = 2061;
pub const CN_REQUEST_REPLY: u16 = 9011;
pub const CN_EXECUTION_RESULT: u16 = 9012;
pub const CN_NOTICE_REPLY: u16 = 9013;
pub const CN_DATA_REPLY: u16 = 9014;
/// System code of replies ("system interaction").
pub const ST_REPLY: &str = "91";

/// A command that uploads pollutant values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataCommand {
    /// 2011: real-time values.
    RealTime,
    /// 2051: minute data.
    Minute,
    /// 2061: hourly data.
    Hourly,
    /// 2031: daily data.
    Daily,
}

/// What `DataTime` stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// The moment of sampling.
    Instant,
    /// The start of the device's minute-data interval (`MinInterval`, 1 to 30 minutes,
    /// set by CN 1064); the packet does not say which.
    Minutes,
    /// The start of the hour.
    Hour,
    /// The start of the day (local midnight).
    Day,
}

impl Interval {
    /// The length of the interval, where the protocol fixes it.
    pub fn seconds(self) -> Option<u32> {
        match self {
            Interval::Instant => Some(0),
            Interval::Minutes => None,
            Interval::Hour => Some(3600),
            Interval::Day => Some(86_400),
        }
    }
}

const REALTIME_KINDS: &[ReadingKind] = &[ReadingKind::Rtd, ReadingKind::ZsRtd];
const INTERVAL_KINDS: &[ReadingKind] = &[
    ReadingKind::Avg,
    ReadingKind::Min,
    ReadingKind::Max,
    ReadingKind::ZsAvg,
    ReadingKind::Cou,
];

impl DataCommand {
    pub const ALL: [DataCommand; 4] = [
        DataCommand::RealTime,
        DataCommand::Minute,
        DataCommand::Hourly,
        DataCommand::Daily,
    ];

    pub fn from_cn(cn: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.cn() == cn)
    }

    pub fn cn(self) -> u16 {
        match self {
            DataCommand::RealTime => CN_REALTIME,
            DataCommand::Minute => CN_MINUTE,
            DataCommand::Hourly => CN_HOURLY,
            DataCommand::Daily => CN_DAILY,
        }
    }

    pub fn interval(self) -> Interval {
        match self {
            DataCommand::RealTime => Interval::Instant,
            DataCommand::Minute => Interval::Minutes,
            DataCommand::Hourly => Interval::Hour,
            DataCommand::Daily => Interval::Day,
        }
    }

    /// The value kinds the command carries: real-time values, or statistics over the
    /// interval.
    pub fn kinds(self) -> &'static [ReadingKind] {
        match self {
            DataCommand::RealTime => REALTIME_KINDS,
            _ => INTERVAL_KINDS,
        }
    }
}

/// One value of an upload, at the upload's `DataTime` in UTC.
#[derive(Debug, Clone, PartialEq)]
pub struct DataRecord {
    pub pollutant: String,
    pub kind: ReadingKind,
    pub time: OffsetDateTime,
    pub value: f64,
    /// The data flag; devices that send none leave it to the ingest to decide.
    pub flag: Option<String>,
}

/// The values of a data upload.
#[derive(Debug, Clone, PartialEq)]
pub struct DataUpload {
    pub command: DataCommand,
    /// `DataTime` in UTC.
    pub time: OffsetDateTime,
    pub records: Vec<DataRecord>,
    /// Values of kinds the command does not carry (an `-Avg` in a real-time upload).
    pub ignored: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    #[error("CN {0} carries no pollutant data")]
    NotData(u16),
    #[error("missing field DataTime")]
    MissingDataTime,
}

/// The records of a data upload (CN 2011, 2051, 2061, 2031), `DataTime` read in `offset`.
pub fn data_upload(packet: &Packet, offset: UtcOffset) -> Result<DataUpload, RecordError> {
    let command = DataCommand::from_cn(packet.cn).ok_or(RecordError::NotData(packet.cn))?;
    let local = packet.cp.data_time.ok_or(RecordError::MissingDataTime)?;
    let time = to_utc(local, offset);
    let kinds = command.kinds();
    let mut records = Vec::new();
    let mut ignored = 0;
    for p in &packet.cp.pollutants {
        for &(kind, value) in &p.values {
            if !kinds.contains(&kind) {
                ignored += 1;
                continue;
            }
            records.push(DataRecord {
                pollutant: p.code.clone(),
                kind,
                time,
                value,
                flag: p.flag.clone(),
            });
        }
    }
    Ok(DataUpload {
        command,
        time,
        records,
        ignored,
    })
}

/// Treatment-facility states of a 2021 upload: (`SB1`, `1`) for `SB1-RS=1`. States are
/// 0 off, 1 running, 2 calibration, 3 maintenance, 4 alarm, 5 back-flushing.
pub fn facility_states(cp: &Cp) -> Vec<(&str, &str)> {
    cp.other
        .iter()
        .filter_map(|(k, v)| Some((k.strip_suffix("-RS")?, v.as_str())))
        .collect()
}

/// The data reply (CN 9014) to a packet whose `Flag` asks for one, framed:
/// `QN=<same>;ST=91;CN=9014;PW=<same>;MN=<same>;Flag=4;CP=&&&&`.
pub fn data_reply(packet: &Packet) -> Result<String, EncodeError> {
    encode_packet(&Packet {
        qn: packet.qn.clone(),
        st: ST_REPLY.to_string(),
        cn: CN_DATA_REPLY,
        pw: packet.pw.clone(),
        mn: packet.mn.clone(),
        flag: Some(Flag::NO_REPLY),
        pnum: None,
        pno: None,
        cp: Cp::default(),
    })
}

impl Packet {
    /// A data upload as a device sends it: `QN` from `sent` (local time), protocol
    /// version 1, a data reply wanted. Encode it with [`Packet::encode`], or split it
    /// first with [`super::encode::split_packet`] when it is long.
    pub fn upload(
        st: &str,
        command: DataCommand,
        pw: &str,
        mn: &str,
        sent: PrimitiveDateTime,
        cp: Cp,
    ) -> Self {
        Packet {
            qn: Some(format_qn(sent)),
            st: st.to_string(),
            cn: command.cn(),
            pw: pw.to_string(),
            mn: mn.to_string(),
            flag: Some(Flag::REPLY),
            pnum: None,
            pno: None,
            cp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::hj212::cp::PollutantValues;
    use crate::monitoring::hj212::time::BEIJING;
    use crate::monitoring::hj212::Mode;
    use time::macros::datetime;

    fn values(kinds: &[ReadingKind]) -> PollutantValues {
        let mut p = PollutantValues::new("a21026");
        p.values = kinds
            .iter()
            .zip(1..)
            .map(|(&k, i)| (k, f64::from(i)))
            .collect();
        p.flag = Some("N".into());
        p
    }

    #[test]
    fn every_data_cn() {
        let cases = [
            (
                2011,
                DataCommand::RealTime,
                Interval::Instant,
                &["rtd", "zs_rtd"][..],
            ),
            (
                2051,
                DataCommand::Minute,
                Interval::Minutes,
                &["avg", "min", "max", "zs_avg", "cou"][..],
            ),
            (
                2061,
                DataCommand::Hourly,
                Interval::Hour,
                &["avg", "min", "max", "zs_avg", "cou"][..],
            ),
            (
                2031,
                DataCommand::Daily,
                Interval::Day,
                &["avg", "min", "max", "zs_avg", "cou"][..],
            ),
        ];
        for (cn, command, interval, kinds) in cases {
            assert_eq!(DataCommand::from_cn(cn), Some(command));
            assert_eq!(command.cn(), cn);
            assert_eq!(command.interval(), interval);
            let names: Vec<_> = command.kinds().iter().map(|k| k.as_str()).collect();
            assert_eq!(names, kinds);

            let cp = Cp {
                data_time: Some(datetime!(2016-08-01 08:00:00)),
                pollutants: vec![values(&ReadingKind::ALL)],
                other: vec![],
            };
            let packet = Packet::upload(
                "31",
                command,
                "123456",
                "MN1",
                datetime!(2016-08-01 09:00:00.001),
                cp,
            );
            let upload = data_upload(&packet, BEIJING).expect("data");
            assert_eq!(upload.time, datetime!(2016-08-01 00:00:00 UTC));
            assert_eq!(upload.records.len(), kinds.len());
            assert_eq!(upload.ignored, 7 - kinds.len());
            assert!(upload
                .records
                .iter()
                .all(|r| r.pollutant == "a21026" && r.flag.as_deref() == Some("N")));
            // What the simulator sends reads back.
            let framed = packet.encode().expect("encodes");
            let seg = &framed[6..framed.len() - 6];
            assert_eq!(
                Packet::parse(seg, Mode::Strict).map(|p| p.packet),
                Ok(packet)
            );
        }
        for cn in [2021, 2041, 1062, 9014, 0] {
            assert_eq!(DataCommand::from_cn(cn), None);
        }
        assert_eq!(Interval::Hour.seconds(), Some(3600));
    }

    #[test]
    fn data_without_datatime_is_an_error() {
        let packet = Packet::upload(
            "32",
            DataCommand::RealTime,
            "1",
            "MN1",
            datetime!(2016-08-01 09:00:00),
            Cp::default(),
        );
        assert_eq!(
            data_upload(&packet, BEIJING),
            Err(RecordError::MissingDataTime)
        );
        let mut other = packet.clone();
        other.cn = 2021;
        assert_eq!(
            data_upload(&other, BEIJING),
            Err(RecordError::NotData(2021))
        );
    }

    #[test]
    fn facility_status() {
        let seg =
            "QN=20160801085857223;ST=32;CN=2021;PW=123456;MN=010000A8900016F000169DC0;Flag=5;\
                   CP=&&DataTime=20160801085857;SB1-RS=1;SB2-RS=0&&";
        let p = Packet::parse(seg, Mode::Strict).expect("parses").packet;
        assert_eq!(facility_states(&p.cp), [("SB1", "1"), ("SB2", "0")]);
    }

    #[test]
    fn reply_is_byte_exact() {
        // Appendix C.14: the upload and the server's data reply; CRC computed independently.
        let seg =
            "QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;\
                   CP=&&DataTime=20160801085857;w01001-Rtd=7.1,w01001-Flag=N&&";
        let p = Packet::parse(seg, Mode::Strict).expect("parses").packet;
        assert!(p.wants_reply());
        assert_eq!(
            data_reply(&p).expect("encodes"),
            "##0087QN=20160801085857223;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;\
             Flag=4;CP=&&&&3240\r\n"
        );
        // A 2005 device without QN gets a reply without QN.
        let old = Packet::parse("ST=32;CN=2011;PW=123456;MN=1;CP=&&&&", Mode::Lenient)
            .expect("parses")
            .packet;
        assert_eq!(
            data_reply(&old),
            Ok("##0043ST=91;CN=9014;PW=123456;MN=1;Flag=4;CP=&&&&9901\r\n".to_string())
        );
    }
}
