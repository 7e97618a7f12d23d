//! Transaction timers: B and F time out after 64*T1; A and E retransmit only on unreliable
//! transports, E capped at T2.
use ferrophone_ua::message::{Headers, Method, Request, Response};
use ferrophone_ua::transaction::{TimerConfig, TransactionLayer, TxEvent};

fn request(method: Method, branch: &str) -> Request {
    let mut h = Headers::new();
    h.push("Via", format!("SIP/2.0/WSS abc.invalid;branch={branch}"));
    h.push("From", "<sip:a@x>;tag=1");
    h.push("To", "<sip:b@x>");
    h.push("Call-ID", "c1");
    h.push("CSeq", format!("1 {}", method.as_str()));
    h.push("Max-Forwards", "70");
    Request { method, uri: "sip:b@x".into(), headers: h, body: vec![] }
}

fn drain(t: &mut TransactionLayer) -> (usize, Vec<TxEvent>) {
    let mut n = 0;
    while t.poll_transmit().is_some() {
        n += 1;
    }
    let mut ev = vec![];
    while let Some(e) = t.poll_event() {
        ev.push(e);
    }
    (n, ev)
}

fn run_until(t: &mut TransactionLayer, until: u64) -> (usize, Vec<TxEvent>) {
    let mut sent = 0;
    let mut events = vec![];
    while let Some(d) = t.next_deadline() {
        if d > until {
            break;
        }
        t.handle_timeout(d);
        let (n, e) = drain(t);
        sent += n;
        events.extend(e);
    }
    (sent, events)
}

#[test]
fn timer_f_on_reliable_transport_without_retransmissions() {
    let mut t = TransactionLayer::new(TimerConfig::default(), true, 8);
    let id = t.send_request(0, request(Method::Register, "z9hG4bK1"));
    assert_eq!(drain(&mut t).0, 1);
    let (sent, ev) = run_until(&mut t, 31_999);
    assert_eq!((sent, ev.len()), (0, 0));
    let (_, ev) = run_until(&mut t, 32_000);
    assert_eq!(ev, vec![TxEvent::Timeout { tx: id }]);
    assert_eq!(t.counts(), (0, 0));
}

#[test]
fn timer_b_on_reliable_transport() {
    let mut t = TransactionLayer::new(TimerConfig::default(), true, 8);
    let id = t.send_request(0, request(Method::Invite, "z9hG4bK2"));
    drain(&mut t);
    let (sent, ev) = run_until(&mut t, 40_000);
    assert_eq!(sent, 0);
    assert_eq!(ev, vec![TxEvent::Timeout { tx: id }]);
}

#[test]
fn timer_a_doubles_and_timer_e_caps_at_t2_on_unreliable() {
    let mut t = TransactionLayer::new(TimerConfig::default(), false, 8);
    t.send_request(0, request(Method::Invite, "z9hG4bK3"));
    drain(&mut t);
    // A: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s → 6 retransmissions before B at 32 s.
    let (sent, ev) = run_until(&mut t, 32_000);
    assert_eq!(sent, 6);
    assert!(matches!(ev[..], [TxEvent::Timeout { .. }]));

    let mut t = TransactionLayer::new(TimerConfig::default(), false, 8);
    t.send_request(0, request(Method::Options, "z9hG4bK4"));
    drain(&mut t);
    // E: 0.5, 1.5, 3.5, 7.5, then every 4 s: 11.5 ... 31.5 → 4 + 6 = 10.
    let (sent, _) = run_until(&mut t, 32_000);
    assert_eq!(sent, 10);
}

#[test]
fn provisional_response_stops_timer_b() {
    let mut t = TransactionLayer::new(TimerConfig::default(), true, 8);
    let req = request(Method::Invite, "z9hG4bK5");
    let id = t.send_request(0, req.clone());
    drain(&mut t);
    let ringing = Response::for_request(&req, 180, "Ringing", Some("tt"));
    t.receive(100, ferrophone_ua::message::Message::Response(ringing)).unwrap();
    let (_, ev) = drain(&mut t);
    assert!(matches!(&ev[..], [TxEvent::Response { tx, .. }] if *tx == id));
    let (_, ev) = run_until(&mut t, 120_000);
    assert!(ev.is_empty(), "no timeout while ringing: {ev:?}");
}

#[test]
fn non_2xx_final_to_invite_is_acked_by_the_transaction() {
    let mut t = TransactionLayer::new(TimerConfig::default(), true, 8);
    let req = request(Method::Invite, "z9hG4bK6");
    t.send_request(0, req.clone());
    drain(&mut t);
    let busy = Response::for_request(&req, 486, "Busy Here", Some("tt"));
    t.receive(10, ferrophone_ua::message::Message::Response(busy.clone())).unwrap();
    let mut acks = vec![];
    while let Some(b) = t.poll_transmit() {
        acks.push(ferrophone_ua::message::parse(&b).unwrap());
    }
    assert_eq!(acks.len(), 1);
    let ferrophone_ua::message::Message::Request(ack) = &acks[0] else { panic!() };
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.headers.top_via().unwrap().branch(), Some("z9hG4bK6"));
    assert_eq!(ack.headers.to().unwrap().tag(), Some("tt"));
    assert_eq!(ack.headers.cseq().unwrap().seq, 1);
}
