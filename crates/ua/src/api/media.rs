//! The worker ↔ offscreen document media protocol (docs/MEDIA.md): requests `{ ferrophone: 1,
//! type, callId, ...arguments }` and what the worker reads of their replies.

use super::*;
use serde::ser::SerializeMap;

/// A media request `{ ferrophone: 1, type: "<kind>", callId, ...arguments }` (docs/MEDIA.md).
/// Serialised by hand (the common fields written once: half the code of the derived form).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum MediaMessage {
    /// A new call that we offer.
    #[serde(rename_all = "camelCase")]
    MediaOffer {
        ferrophone: V1,
        call_id: String,
        /// The ICE servers WITHOUT their TURN passwords (a request reaches every page of the
        /// extension); `ice_credentials` says the document must fetch them (`ice-servers`).
        ice_servers: Vec<IceServer>,
        ice_credentials: bool,
        gathering_timeout_ms: u32,
        /// `false`: prepare the SDP without opening the microphone (delayed automatic answer).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        microphone: Option<bool>,
    },
    /// Answer the far end's offer (`sdp`): a new call, or a re-offer on an existing one.
    #[serde(rename_all = "camelCase")]
    MediaAnswer {
        ferrophone: V1,
        call_id: String,
        /// The far end's offer.
        sdp: String,
        ice_servers: Vec<IceServer>,
        ice_credentials: bool,
        gathering_timeout_ms: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        microphone: Option<bool>,
    },
    #[serde(rename_all = "camelCase")]
    MediaMicrophone { ferrophone: V1, call_id: String },
    #[serde(rename_all = "camelCase")]
    ToneZip { ferrophone: V1, call_id: String },
    #[serde(rename_all = "camelCase")]
    MediaRemote {
        ferrophone: V1,
        call_id: String,
        /// The far end's answer.
        sdp: String,
        /// `false`: a provisional answer (183, early media).
        #[serde(rename = "final")]
        final_answer: bool,
    },
    #[serde(rename_all = "camelCase")]
    MediaReoffer { ferrophone: V1, call_id: String, direction: String, ice_restart: bool, gathering_timeout_ms: u32 },
    #[serde(rename_all = "camelCase")]
    MediaRollback { ferrophone: V1, call_id: String },
    #[serde(rename_all = "camelCase")]
    MediaClose { ferrophone: V1, call_id: String },
    #[serde(rename_all = "camelCase")]
    MediaMute { ferrophone: V1, call_id: String, muted: bool },
    #[serde(rename_all = "camelCase")]
    MediaDtmf {
        ferrophone: V1,
        call_id: String,
        digits: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gap_ms: Option<u32>,
    },
    #[serde(rename_all = "camelCase")]
    RingStart { ferrophone: V1, call_id: String },
    #[serde(rename_all = "camelCase")]
    RingStop { ferrophone: V1, call_id: String },
    /// Diagnostics and tests: the call's counters and measured audio.
    #[serde(rename_all = "camelCase")]
    MediaStats { ferrophone: V1, call_id: String },
    /// Diagnostics and tests: every call the document holds.
    MediaCalls { ferrophone: V1 },
    /// `mic-test`: open the microphone, report, release it.
    MicProbe { ferrophone: V1 },
}

impl MediaMessage {
    /// The `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            MediaMessage::MediaOffer { .. } => "media-offer",
            MediaMessage::MediaAnswer { .. } => "media-answer",
            MediaMessage::MediaMicrophone { .. } => "media-microphone",
            MediaMessage::ToneZip { .. } => "tone-zip",
            MediaMessage::MediaRemote { .. } => "media-remote",
            MediaMessage::MediaReoffer { .. } => "media-reoffer",
            MediaMessage::MediaRollback { .. } => "media-rollback",
            MediaMessage::MediaClose { .. } => "media-close",
            MediaMessage::MediaMute { .. } => "media-mute",
            MediaMessage::MediaDtmf { .. } => "media-dtmf",
            MediaMessage::RingStart { .. } => "ring-start",
            MediaMessage::RingStop { .. } => "ring-stop",
            MediaMessage::MediaStats { .. } => "media-stats",
            MediaMessage::MediaCalls { .. } => "media-calls",
            MediaMessage::MicProbe { .. } => "mic-probe",
        }
    }
}

impl MediaMessage {
    /// The call the request is about (all but the document-wide ones).
    pub fn call_id(&self) -> Option<&str> {
        use MediaMessage as M;
        match self {
            M::MediaOffer { call_id, .. }
            | M::MediaAnswer { call_id, .. }
            | M::MediaMicrophone { call_id, .. }
            | M::ToneZip { call_id, .. }
            | M::MediaRemote { call_id, .. }
            | M::MediaReoffer { call_id, .. }
            | M::MediaRollback { call_id, .. }
            | M::MediaClose { call_id, .. }
            | M::MediaMute { call_id, .. }
            | M::MediaDtmf { call_id, .. }
            | M::RingStart { call_id, .. }
            | M::RingStop { call_id, .. }
            | M::MediaStats { call_id, .. } => Some(call_id),
            M::MediaCalls { .. } | M::MicProbe { .. } => None,
        }
    }
}

impl Serialize for MediaMessage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use MediaMessage as M;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", self.kind())?;
        m.serialize_entry("ferrophone", &VERSION)?;
        if let Some(id) = self.call_id() {
            m.serialize_entry("callId", id)?;
        }
        let (sdp, ice) = match self {
            M::MediaOffer { ice_servers, ice_credentials, gathering_timeout_ms, microphone, .. } => {
                (None, Some((ice_servers, ice_credentials, gathering_timeout_ms, microphone)))
            }
            M::MediaAnswer { sdp, ice_servers, ice_credentials, gathering_timeout_ms, microphone, .. } => {
                (Some(sdp), Some((ice_servers, ice_credentials, gathering_timeout_ms, microphone)))
            }
            M::MediaRemote { sdp, final_answer, .. } => {
                m.serialize_entry("final", final_answer)?;
                (Some(sdp), None)
            }
            M::MediaReoffer { direction, ice_restart, gathering_timeout_ms, .. } => {
                m.serialize_entry("direction", direction)?;
                m.serialize_entry("iceRestart", ice_restart)?;
                m.serialize_entry("gatheringTimeoutMs", gathering_timeout_ms)?;
                (None, None)
            }
            M::MediaMute { muted, .. } => {
                m.serialize_entry("muted", muted)?;
                (None, None)
            }
            M::MediaDtmf { digits, duration_ms, gap_ms, .. } => {
                m.serialize_entry("digits", digits)?;
                if let Some(d) = duration_ms {
                    m.serialize_entry("durationMs", d)?;
                }
                if let Some(g) = gap_ms {
                    m.serialize_entry("gapMs", g)?;
                }
                (None, None)
            }
            _ => (None, None),
        };
        if let Some(sdp) = sdp {
            m.serialize_entry("sdp", sdp)?;
        }
        if let Some((servers, credentials, gathering, microphone)) = ice {
            m.serialize_entry("iceServers", servers)?;
            m.serialize_entry("iceCredentials", credentials)?;
            m.serialize_entry("gatheringTimeoutMs", gathering)?;
            if let Some(mic) = microphone {
                m.serialize_entry("microphone", mic)?;
            }
        }
        m.end()
    }
}

/// What the worker reads of any media reply: success, the SDP (for requests that make one), the
/// error. Fields of the wrong type make the whole reply unreadable (a failure).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MediaReply {
    pub ok: bool,
    pub sdp: Option<String>,
    pub error: Option<ApiError>,
    // `mic-probe`:
    pub audio_tracks: Option<u32>,
    pub label: Option<String>,
    pub sample_rate: Option<u32>,
}
