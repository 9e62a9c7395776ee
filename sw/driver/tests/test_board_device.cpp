// The board backend without a board: the failure paths that need no hardware. Opening a
// real core (register window, interrupt, DMA buffer) cannot be exercised here; see
// docs/board_backend.md.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "kestrel/driver/board.h"

namespace {

using ks::drv::BoardOptions;
using ks::drv::make_board_device;

/// A path that does not exist (unique to this process).
std::string missing_path(const std::string& leaf) {
  return "/nonexistent-kestrel-test-" + std::to_string(::getpid()) + "/" + leaf;
}

/// Options that pass validation: a physical region through /dev/mem.
BoardOptions valid_options() {
  BoardOptions o;
  o.uio = missing_path("uio0");
  o.devmem = missing_path("mem");
  o.mem_phys = 0x3f000000;
  o.mem_size = 16u << 20;
  return o;
}

/// The message of the std::invalid_argument `fn` throws ("" if it throws nothing or another type).
template <class Fn>
std::string invalid_argument_message(Fn&& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  } catch (...) {
    return "(other exception)";
  }
  return "(no exception)";
}

TEST(BoardDevice, MissingUioThrowsSystemErrorNamingIt) {
  const BoardOptions o = valid_options();
  try {
    make_board_device("ecp5", o);
    FAIL() << "opening a missing UIO device must throw";
  } catch (const std::system_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(o.uio), std::string::npos) << what;
    EXPECT_NE(what.find("open"), std::string::npos) << what;
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory) << what;
  }
}

TEST(BoardDevice, MissingUioWithUdmabufSourceThrowsSystemError) {
  BoardOptions o;
  o.uio = missing_path("uio3");
  o.udmabuf = missing_path("udmabuf0");
  try {
    make_board_device("up5k", o);
    FAIL() << "opening a missing UIO device must throw";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find(o.uio), std::string::npos) << e.what();
  }
}

TEST(BoardDevice, UnknownConfigurationThrowsInvalidArgument) {
  const std::string msg = invalid_argument_message([] { make_board_device("nope", valid_options()); });
  EXPECT_NE(msg.find("'nope'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ecp5"), std::string::npos) << "the message lists the known configurations: " << msg;
  EXPECT_THROW(make_board_device("", valid_options()), std::invalid_argument);
}

TEST(BoardDevice, NoMemorySourceThrowsInvalidArgument) {
  BoardOptions o;
  o.uio = missing_path("uio0");  // the options are checked before any file is opened
  const std::string msg = invalid_argument_message([&] { make_board_device("ecp5", o); });
  EXPECT_NE(msg.find("no device memory"), std::string::npos) << msg;
}

TEST(BoardDevice, ZeroSizeThrowsInvalidArgument) {
  BoardOptions o = valid_options();
  o.mem_size = 0;
  const std::string msg = invalid_argument_message([&] { make_board_device("ecp5", o); });
  EXPECT_NE(msg.find("mem_size is 0"), std::string::npos) << msg;
}

TEST(BoardDevice, InconsistentOptionsThrowInvalidArgument) {
  {
    BoardOptions o = valid_options();
    o.udmabuf = "/dev/udmabuf0";
    EXPECT_THROW(make_board_device("ecp5", o), std::invalid_argument) << "both memory sources";
  }
  {
    BoardOptions o = valid_options();
    o.uio.clear();
    EXPECT_THROW(make_board_device("ecp5", o), std::invalid_argument) << "no UIO device";
  }
  {
    BoardOptions o = valid_options();
    o.devmem.clear();
    EXPECT_THROW(make_board_device("ecp5", o), std::invalid_argument) << "no devmem path";
  }
  {
    BoardOptions o = valid_options();
    o.mem_phys = 0xfff00000;
    o.mem_size = 2u << 20;
    const std::string msg = invalid_argument_message([&] { make_board_device("ecp5", o); });
    EXPECT_NE(msg.find("32-bit"), std::string::npos) << "the core's addresses are 32 bits: " << msg;
  }
  {
    BoardOptions o = valid_options();
    o.mem_phys = 0x3f000008;  // ecp5 DMA beat is 16 bytes
    EXPECT_THROW(make_board_device("ecp5", o), std::invalid_argument) << "misaligned base";
    EXPECT_THROW(make_board_device("up5k", o), std::system_error) << "aligned to up5k's 8-byte beat";
  }
}

TEST(BoardDevice, NonUioFileIsRefusedNamingIt) {
  // A regular file is not a character device.
  char tmpl[] = "/tmp/kestrel-board-test-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  BoardOptions o = valid_options();
  o.uio = tmpl;
  try {
    make_board_device("ecp5", o);
    ADD_FAILURE() << "a regular file must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(tmpl), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a character device"), std::string::npos) << e.what();
  }
  std::remove(tmpl);

  // A character device of another class (/dev/null is class "mem"); without sysfs the
  // readlink fails instead, which names the device too.
  if (::access("/dev/null", R_OK | W_OK) == 0) {
    o.uio = "/dev/null";
    try {
      make_board_device("ecp5", o);
      ADD_FAILURE() << "/dev/null must be refused";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("/dev/null"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
