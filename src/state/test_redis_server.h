#pragma once
// For tests: a real redis-server (Debian's, installed by scripts/setup.sh) on a free loopback
// port, without persistence, stopped when this object goes. Test-only; not part of the library.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include <chrono>
#include <string>
#include <thread>

extern char** environ;

namespace mec::testing {

class TestRedisServer {
 public:
  TestRedisServer() {
    port_ = FreePort();
    const std::string port = std::to_string(port_);
    const char* argv[] = {"redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, "redis-server", &fa, nullptr, const_cast<char**>(argv), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    // Ready when it answers PING (up to 5 s).
    for (int i = 0; pid_ > 0 && i < 100 && !ready_; ++i) {
      timeval tv{0, 100000};
      if (redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv)) {
        if (!c->err) {
          if (auto* r = static_cast<redisReply*>(redisCommand(c, "PING"))) {
            ready_ = true;
            freeReplyObject(r);
          }
        }
        redisFree(c);
      }
      if (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~TestRedisServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return ready_; }
  int port() const { return port_; }
  // A loopback TCP port nothing listens on now (bound, then closed).
  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    close(fd);
    return port;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool ready_ = false;
};

}  // namespace mec::testing
