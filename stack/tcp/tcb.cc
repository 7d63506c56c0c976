#include "stack/tcp/tcb.h"

#include "stack/tcp/engine.h"

namespace tapstack::tcp {

namespace {

// Each timer recovers its connection from the timer's address and hands it to the engine.
template <timers::Timer Tcb::*Member, void (TcpEngine::*Handler)(Tcb&)>
void Dispatch(timers::Timer& timer) {
  Tcb& tcb = timers::OwnerOf<Member>(timer);
  (tcb.engine->*Handler)(tcb);
}

}  // namespace

Tcb::Tcb(TcpEngine* engine, const ConnectionOptions* options, const RtoConfig& rto_config,
         std::uint32_t mss)
    : engine(engine),
      options(options),
      keepalive_timer(&Dispatch<&Tcb::keepalive_timer, &TcpEngine::OnKeepaliveTimer>),
      receiver(options->receive_buffer),
      delayed_ack_timer(&Dispatch<&Tcb::delayed_ack_timer, &TcpEngine::OnDelayedAckTimer>),
      // The connection's own choice of congestion controller, else the engine's.
      sender(options->send_buffer, rto_config, mss,
             options->congestion_control.value_or(engine->config().congestion_control)),
      send_timer(&Dispatch<&Tcb::send_timer, &TcpEngine::OnSendTimer>) {}

std::string_view StateName(State state) {
  switch (state) {
    case State::kClosed:
      return "CLOSED";
    case State::kListen:
      return "LISTEN";
    case State::kSynSent:
      return "SYN-SENT";
    case State::kSynReceived:
      return "SYN-RECEIVED";
    case State::kEstablished:
      return "ESTABLISHED";
    case State::kFinWait1:
      return "FIN-WAIT-1";
    case State::kFinWait2:
      return "FIN-WAIT-2";
    case State::kCloseWait:
      return "CLOSE-WAIT";
    case State::kClosing:
      return "CLOSING";
    case State::kLastAck:
      return "LAST-ACK";
    case State::kTimeWait:
      return "TIME-WAIT";
  }
  return "?";
}

}  // namespace tapstack::tcp
