//! RFC 3261 §12 dialogs: identifiers, route set, remote target, CSeq spaces, and building
//! in-dialog requests.

use crate::message::{Headers, Method, NameAddr, Request, Response};
use crate::rand::Rng;

/// Dialog state shared by both ends of a call.
#[derive(Clone, Debug)]
pub(crate) struct Dialog {
    pub call_id: String,
    pub local_tag: String,
    /// `None` until the far end's tag is known (early, before any tagged response).
    pub remote_tag: Option<String>,
    /// From (UAC) / To (UAS) header value of ours, without tag.
    pub local_uri: String,
    /// The peer's name-addr without tag.
    pub remote_uri: String,
    /// Where in-dialog requests go (the peer's Contact).
    pub remote_target: String,
    /// Route set, in the order the Route headers must be written.
    pub route_set: Vec<String>,
    pub local_cseq: u32,
    pub remote_cseq: Option<u32>,
    /// Our Contact header value.
    pub contact: String,
    /// Via sent-by and transport of ours.
    pub via_host: String,
    pub via_transport: &'static str,
}

fn without_tag(na: &NameAddr) -> String {
    let mut na = na.clone();
    na.params.remove("tag");
    na.to_string()
}

fn first_contact(headers: &Headers) -> Option<String> {
    headers.contacts().into_iter().next().map(|c| c.uri).filter(|u| u != "*")
}

impl Dialog {
    /// UAC side, once a response with a To tag arrives to our INVITE (§12.1.2).
    pub fn from_uac(
        invite: &Request,
        resp: &Response,
        contact: &str,
        via_host: &str,
        via_transport: &'static str,
    ) -> Option<Dialog> {
        let from = invite.headers.from()?;
        let to = resp.headers.to()?;
        let mut route_set: Vec<String> = resp.headers.get_all("Record-Route");
        route_set.reverse();
        Some(Dialog {
            call_id: invite.headers.call_id()?.to_string(),
            local_tag: from.tag()?.to_string(),
            remote_tag: to.tag().map(str::to_string),
            local_uri: without_tag(&from),
            remote_uri: without_tag(&to),
            remote_target: first_contact(&resp.headers).unwrap_or_else(|| invite.uri.clone()),
            route_set,
            local_cseq: invite.headers.cseq()?.seq,
            remote_cseq: None,
            contact: contact.to_string(),
            via_host: via_host.to_string(),
            via_transport,
        })
    }

    /// UAS side, for an incoming INVITE answered with our tag (§12.1.1).
    pub fn from_uas(
        invite: &Request,
        local_tag: &str,
        contact: &str,
        via_host: &str,
        via_transport: &'static str,
        rng: &mut Rng,
    ) -> Option<Dialog> {
        let from = invite.headers.from()?;
        let to = invite.headers.to()?;
        Some(Dialog {
            call_id: invite.headers.call_id()?.to_string(),
            local_tag: local_tag.to_string(),
            remote_tag: from.tag().map(str::to_string),
            local_uri: without_tag(&to),
            remote_uri: without_tag(&from),
            remote_target: first_contact(&invite.headers)?,
            route_set: invite.headers.get_all("Record-Route"),
            // Our own CSeq space starts anywhere below 2^31 (§8.1.1.5); keep it small.
            local_cseq: (rng.below(10_000) + 1) as u32,
            remote_cseq: invite.headers.cseq().map(|c| c.seq),
            contact: contact.to_string(),
            via_host: via_host.to_string(),
            via_transport,
        })
    }

    /// A target refresh (2xx to re-INVITE/UPDATE, or such a request) updates the remote target.
    pub fn refresh_target(&mut self, headers: &Headers) {
        if let Some(t) = first_contact(headers) {
            self.remote_target = t;
        }
    }

    /// Whether an incoming request belongs to this dialog (Call-ID, To tag = ours, From tag = theirs).
    pub fn matches_request(&self, req: &Request) -> bool {
        req.headers.call_id() == Some(self.call_id.as_str())
            && req.headers.to().and_then(|t| t.tag().map(str::to_string)).as_deref() == Some(self.local_tag.as_str())
            && match (&self.remote_tag, req.headers.from().and_then(|f| f.tag().map(str::to_string))) {
                (Some(ours), Some(theirs)) => *ours == theirs,
                (None, _) => true,
                (Some(_), None) => false,
            }
    }

    /// Check and record the CSeq of an in-dialog request; false for an out-of-order one (500).
    pub fn accept_remote_cseq(&mut self, req: &Request) -> bool {
        let Some(c) = req.headers.cseq() else {
            return false;
        };
        if req.method == Method::Ack || req.method == Method::Cancel {
            return true;
        }
        if let Some(last) = self.remote_cseq {
            if c.seq <= last {
                return false;
            }
        }
        self.remote_cseq = Some(c.seq);
        true
    }

    /// Build an in-dialog request (§12.2.1.1). `cseq` None = next local CSeq.
    pub fn request(&mut self, method: Method, branch: &str, cseq: Option<u32>) -> Request {
        let seq = match cseq {
            Some(s) => s,
            None => {
                self.local_cseq += 1;
                self.local_cseq
            }
        };
        let mut h = Headers::new();
        h.push("Via", format!("SIP/2.0/{} {};branch={branch};rport", self.via_transport, self.via_host));
        h.push("Max-Forwards", "70");
        // Loose routing (every modern proxy sets ;lr): Request-URI = remote target, Route = set.
        // Strict routers (no ;lr on the first route) put the first route in the Request-URI.
        let mut uri = self.remote_target.clone();
        let mut routes = self.route_set.clone();
        if let Some(first) = routes.first() {
            let first_uri = NameAddr::parse(first).map(|n| n.uri).unwrap_or_default();
            if !first_uri.contains(";lr") {
                routes.remove(0);
                routes.push(format!("<{}>", self.remote_target));
                uri = first_uri;
            }
        }
        for r in routes {
            h.push("Route", r);
        }
        h.push("From", format!("{};tag={}", self.local_uri, self.local_tag));
        match &self.remote_tag {
            Some(t) => h.push("To", format!("{};tag={t}", self.remote_uri)),
            None => h.push("To", self.remote_uri.clone()),
        }
        h.push("Call-ID", self.call_id.clone());
        h.push("CSeq", format!("{seq} {}", method.as_str()));
        if method != Method::Ack && method != Method::Cancel {
            h.push("Contact", self.contact.clone());
        }
        Request { method, uri, headers: h, body: Vec::new() }
    }
}
