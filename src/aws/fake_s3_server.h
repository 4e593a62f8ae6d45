#pragma once
// Test helper (header-only; not part of the library): a real HTTP server on 127.0.0.1 standing in
// for S3 and for the container credentials endpoint, on a thread of its own, one connection at a
// time.
//  - PUT /BUCKET/KEY: recomputes the SigV4 signature (aws/sigv4.h) over the headers the request
//    names as signed, with the credentials it was told, checks the payload hash and the session
//    token; 403 SignatureDoesNotMatch on any mismatch, else stores the object (200).
//    `fail_status` set: answers that status instead.
//  - GET /creds: the container endpoint; 401 unless Authorization is `auth_token` (when set).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "aws/sigv4.h"
#include "core/ascii.h"

namespace mec::aws::testing_util {

class FakeS3Server {
 public:
  std::string access_key_id = "AKIDTEST";
  std::string secret_access_key = "secret/TEST+key";
  std::string session_token;    // required in x-amz-security-token when not empty
  std::string region = "us-east-1";
  std::string auth_token;       // for GET /creds
  std::string creds_json;       // GET /creds answers this
  std::atomic<int> fail_status{0};

  FakeS3Server() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 16);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeS3Server() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::map<std::string, std::string> objects() {
    std::lock_guard lock(mu_);
    return objects_;
  }
  int rejected() const { return rejected_; }
  int creds_fetches() const { return creds_fetches_; }

 private:
  static std::string PercentDecode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }

  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      Handle(c);
      close(c);
    }
  }

  void Reply(int c, int status, const std::string& body) {
    const std::string r = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\nConnection: close\r\n\r\n" + body;
    send(c, r.data(), r.size(), MSG_NOSIGNAL);
  }

  void Handle(int c) {
    std::string in;
    char buf[65536];
    size_t head_end = std::string::npos;
    size_t want = 0;
    std::map<std::string, std::string> headers;
    std::string method, target;
    for (;;) {
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) return;
      const ssize_t n = recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
      if (head_end == std::string::npos && (head_end = in.find("\r\n\r\n")) != std::string::npos) {
        size_t pos = in.find("\r\n");
        const std::string first = in.substr(0, pos);
        method = first.substr(0, first.find(' '));
        target = first.substr(method.size() + 1, first.rfind(' ') - method.size() - 1);
        while (pos < head_end) {
          const size_t next = in.find("\r\n", pos + 2);
          const std::string line = in.substr(pos + 2, next - pos - 2);
          const size_t colon = line.find(':');
          if (colon != std::string::npos) headers[AsciiLower(line.substr(0, colon))] = line.substr(line.find_first_not_of(' ', colon + 1));
          pos = next;
        }
        want = headers.count("content-length") ? std::stoul(headers["content-length"]) : 0;
      }
      if (head_end != std::string::npos && in.size() >= head_end + 4 + want) break;
    }
    const std::string body = in.substr(head_end + 4, want);
    if (method == "GET" && target == "/creds") {
      ++creds_fetches_;
      if (!auth_token.empty() && headers["authorization"] != auth_token) return Reply(c, 401, "{\"code\":\"Unauthorized\"}");
      return Reply(c, 200, creds_json);
    }
    if (method != "PUT") return Reply(c, 405, "");
    if (fail_status) return Reply(c, fail_status, "<Error><Code>InternalError</Code></Error>");
    if (!Verify(target, headers, body)) {
      ++rejected_;
      return Reply(c, 403, "<Error><Code>SignatureDoesNotMatch</Code></Error>");
    }
    {
      std::lock_guard lock(mu_);
      objects_[PercentDecode(target)] = body;
    }
    Reply(c, 200, "");
  }

  bool Verify(const std::string& target, std::map<std::string, std::string>& headers, const std::string& body) {
    // AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/s3/aws4_request,SignedHeaders=a;b,Signature=HEX
    const std::string auth = headers["authorization"];
    auto field = [&](const std::string& name) {
      const size_t a = auth.find(name + "=");
      if (a == std::string::npos) return std::string();
      const size_t b = auth.find_first_of(", ", a);
      return auth.substr(a + name.size() + 1, b == std::string::npos ? std::string::npos : b - a - name.size() - 1);
    };
    const std::string credential = field("Credential"), signed_headers = field("SignedHeaders"), signature = field("Signature");
    if (credential != access_key_id + "/" + headers["x-amz-date"].substr(0, 8) + "/" + region + "/s3/aws4_request") return false;
    if (headers["x-amz-content-sha256"] != Sha256Hex(body)) return false;
    if (!session_token.empty() && headers["x-amz-security-token"] != session_token) return false;
    SigV4Request r;
    r.method = "PUT";
    r.path = PercentDecode(target);
    r.payload_sha256 = Sha256Hex(body);
    for (size_t a = 0; a <= signed_headers.size();) {
      size_t b = signed_headers.find(';', a);
      if (b == std::string::npos) b = signed_headers.size();
      const std::string name = signed_headers.substr(a, b - a);
      if (!headers.count(name)) return false;
      r.headers.emplace_back(name, headers[name]);
      a = b + 1;
    }
    if (signed_headers.find("host") == std::string::npos || signed_headers.find("x-amz-content-sha256") == std::string::npos) return false;
    return SignV4(r, SigV4Key{access_key_id, secret_access_key, region, "s3"}, headers["x-amz-date"]).signature == signature;
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> rejected_{0};
  std::atomic<int> creds_fetches_{0};
  std::mutex mu_;
  std::map<std::string, std::string> objects_;
  std::thread thread_;
};

}  // namespace mec::aws::testing_util
