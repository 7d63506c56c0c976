#include "stack/wire/parse_result.h"

#include <ostream>
#include <string_view>

namespace tapstack::wire {

std::string_view ParseErrorMessage(ParseError error) {
  switch (error) {
    case ParseError::kNone:
      return "no error";
    case ParseError::kTruncatedHeader:
      return "fewer bytes than the header";
    case ParseError::kBadVersion:
      return "IP version field is not that of the protocol";
    case ParseError::kBadHeaderLength:
      return "header length field below 5 words";
    case ParseError::kHeaderPastBuffer:
      return "header length field exceeds the bytes received";
    case ParseError::kTotalLengthBelowHeader:
      return "IPv4 total length is smaller than the header";
    case ParseError::kTotalLengthPastBuffer:
      return "IPv4 total length exceeds the bytes received";
    case ParseError::kUnsupportedHardwareType:
      return "ARP hardware type is not Ethernet";
    case ParseError::kUnsupportedProtocolType:
      return "ARP protocol type is not IPv4";
    case ParseError::kBadAddressLength:
      return "ARP address lengths are not 6 and 4";
    case ParseError::kOptionTruncated:
      return "TCP option has no length byte";
    case ParseError::kOptionBadLength:
      return "TCP option length below 2";
    case ParseError::kOptionPastEnd:
      return "TCP option runs past the end of the header";
    case ParseError::kOptionWrongLength:
      return "TCP option has the wrong length for its kind";
    case ParseError::kPayloadLengthPastBuffer:
      return "IPv6 payload length exceeds the bytes received";
    case ParseError::kExtensionHeaderTruncated:
      return "IPv6 extension header cut short by the end of the payload";
    case ParseError::kExtensionHeaderPastPayload:
      return "IPv6 extension header length runs past the payload";
    case ParseError::kHopByHopNotFirst:
      return "IPv6 hop-by-hop options header not right after the IPv6 header";
    case ParseError::kNdOptionZeroLength:
      return "Neighbor Discovery option has length 0";
    case ParseError::kNdOptionPastEnd:
      return "Neighbor Discovery option runs past the end of the message";
    case ParseError::kNdOptionWrongLength:
      return "Neighbor Discovery link-layer address option is not 8 bytes";
  }
  return "unknown parse error";
}

std::ostream& operator<<(std::ostream& out, ParseError error) {
  return out << ParseErrorMessage(error);
}

}  // namespace tapstack::wire
