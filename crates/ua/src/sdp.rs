//! Minimal structural check of an SDP offer from the far end (RFC 4566 / RFC 3264), before it
//! becomes a ringing call or reaches the browser: the lines a session needs (`v=`, `o=`, `s=`),
//! and at least one usable audio stream — `m=audio` with a port in 1..=65535, an RTP profile, a
//! list of payload types (0..=127), one of them something other than DTMF or comfort noise, and
//! a connection address (`c=` at session level or in that media section).
//!
//! This is not a full SDP parser: the browser parses the offer again. It only keeps offers that
//! cannot possibly work from ringing the user (or being auto-answered).

/// Why an offer cannot be used, for the `Warning` header and the log.
pub fn check_offer(sdp: &str) -> Result<(), &'static str> {
    let mut seen_v = false;
    let mut seen_o = false;
    let mut seen_s = false;
    let mut session_c = false;
    // The media section being read (its m= line, its own c=, its rtpmap lines).
    let mut current: Option<Media> = None;
    let mut usable = false;
    let mut first = true;
    let mut audio_seen = false;
    for raw in sdp.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        let Some((kind, value)) = line.split_once('=') else {
            return Err("not SDP: a line without '='");
        };
        if kind.len() != 1 {
            return Err("not SDP: a line type is one letter");
        }
        if first {
            if kind != "v" || value.trim() != "0" {
                return Err("SDP must start with v=0");
            }
            first = false;
        }
        match kind {
            "v" => seen_v = true,
            "o" => seen_o = true,
            "s" => seen_s = true,
            "c" if current.is_none() => session_c = true,
            "c" => {
                if let Some(m) = current.as_mut() {
                    m.has_c = true;
                }
            }
            "m" => {
                if let Some(m) = current.take() {
                    usable |= m.usable(session_c);
                }
                let mut media = Media::parse(value);
                if media.is_audio {
                    audio_seen = true;
                } else {
                    media.ok = false;
                }
                current = Some(media);
            }
            "a" => {
                if let Some(m) = current.as_mut() {
                    m.rtpmap(value);
                }
            }
            _ => {}
        }
    }
    if let Some(m) = current.take() {
        usable |= m.usable(session_c);
    }
    if !(seen_v && seen_o && seen_s) {
        return Err("SDP without its v=, o= and s= lines");
    }
    if !audio_seen {
        return Err("no audio stream in the offer");
    }
    if !usable {
        return Err("no usable audio stream in the offer (port, payload types or connection address)");
    }
    Ok(())
}

struct Media {
    is_audio: bool,
    ok: bool,
    has_c: bool,
    payloads: Vec<u8>,
    /// Payload types whose rtpmap names DTMF or comfort noise (not a voice codec).
    not_voice: Vec<u8>,
}

impl Media {
    /// `m=<media> <port>[/<count>] <proto> <fmt> ...`
    fn parse(value: &str) -> Media {
        let mut parts = value.split_ascii_whitespace();
        let is_audio = parts.next() == Some("audio");
        let port_ok = parts
            .next()
            .and_then(|p| p.split('/').next())
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|p| (1..=65535).contains(&p));
        let proto_ok = parts.next().is_some_and(|p| p.to_ascii_uppercase().contains("RTP/"));
        let fmts: Vec<&str> = parts.collect();
        let payloads: Vec<u8> = fmts.iter().filter_map(|f| f.parse::<u8>().ok()).filter(|p| *p <= 127).collect();
        let ok = port_ok && proto_ok && !payloads.is_empty() && payloads.len() == fmts.len();
        Media { is_audio, ok, has_c: false, payloads, not_voice: Vec::new() }
    }

    /// `a=rtpmap:<pt> <encoding>/<rate>...`
    fn rtpmap(&mut self, value: &str) {
        let Some(rest) = value.strip_prefix("rtpmap:") else { return };
        let mut parts = rest.split_ascii_whitespace();
        let (Some(pt), Some(enc)) = (parts.next().and_then(|p| p.parse::<u8>().ok()), parts.next()) else {
            return;
        };
        let name = enc.split('/').next().unwrap_or("").to_ascii_lowercase();
        if name == "telephone-event" || name == "cn" {
            self.not_voice.push(pt);
        }
    }

    fn usable(&self, session_c: bool) -> bool {
        // Static payload type 13 is comfort noise.
        let voice = self.payloads.iter().any(|p| *p != 13 && !self.not_voice.contains(p));
        self.ok && voice && (self.has_c || session_c)
    }
}

#[cfg(test)]
mod tests {
    use super::check_offer;

    #[test]
    fn browser_and_trunk_offers_pass() {
        let webrtc = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:126 telephone-event/8000\r\n";
        assert_eq!(check_offer(webrtc), Ok(()));
        let sipp = "v=0\no=user1 53655765 2353687637 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";
        assert_eq!(check_offer(sipp), Ok(()));
    }

    #[test]
    fn unusable_offers_are_named() {
        assert!(check_offer("").is_err());
        assert!(check_offer("v=0\r\n").is_err());
        assert!(check_offer("\u{0}\u{ff}=x").is_err());
        assert!(check_offer("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 13\r\n")
            .is_err());
        assert!(check_offer("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0 300\r\n")
            .is_err());
    }
}
