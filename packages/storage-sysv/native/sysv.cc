// The whole native side of @breaker/storage-sysv: thin wrappers over the SysV IPC calls.
// Layout, hashing, counters and status live in TypeScript; JS works on the segment
// directly through an external ArrayBuffer with Atomics, so a record never crosses N-API.
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <unordered_map>

#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/types.h>

namespace {

// Throws a JS Error shaped like Node's system errors: code, errno, syscall.
void ThrowErrno(Napi::Env env, const char* syscall, int err) {
  std::string message = std::string(syscall) + " failed: " + std::strerror(err);
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, uv_err_name(-err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.ThrowAsJavaScriptException();
}

bool ArgNumbers(const Napi::CallbackInfo& info, size_t count) {
  for (size_t i = 0; i < count; i++) {
    if (!info[i].IsNumber()) {
      Napi::TypeError::New(info.Env(), "expected numeric arguments").ThrowAsJavaScriptException();
      return false;
    }
  }
  return true;
}

// One attachment of a segment. The ArrayBuffer's finalizer detaches the memory if JS never
// called shmDetach; shmDetach marks it so the finalizer does not detach a second time.
struct Attachment {
  void* addr;
  bool detached;
};
std::mutex attachments_mutex;
std::unordered_map<void*, Attachment*> attachments;

void FinalizeAttachment(Napi::Env, void*, Attachment* attachment) {
  std::lock_guard<std::mutex> guard(attachments_mutex);
  if (!attachment->detached) {
    shmdt(attachment->addr);
    attachments.erase(attachment->addr);
  }
  delete attachment;
}

// ftok(path, projectId) -> key
Napi::Value Ftok(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "ftok(path: string, projectId: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>();
  key_t key = ftok(path.c_str(), info[1].As<Napi::Number>().Int32Value());
  if (key == -1) {
    ThrowErrno(env, "ftok", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, static_cast<double>(key));
}

// semOpen(key, nsems, mode) -> semid. Linux zero-fills a new set, and zero means unlocked,
// so creation needs no separate initialisation step that could race.
Napi::Value SemOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgNumbers(info, 3)) return env.Undefined();
  int id = semget(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(),
                  IPC_CREAT | (info[2].As<Napi::Number>().Int32Value() & 0777));
  if (id == -1) {
    ThrowErrno(env, "semget", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, id);
}

// semLock(semid, semnum, timeoutMs) -> true when taken, false at the deadline.
// Waits for zero and increments in one semop; SEM_UNDO makes the kernel give the lock
// back when the holder dies, however it dies.
Napi::Value SemLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgNumbers(info, 3)) return env.Undefined();
  int semid = info[0].As<Napi::Number>().Int32Value();
  unsigned short semnum = static_cast<unsigned short>(info[1].As<Napi::Number>().Uint32Value());
  double timeout_ms = info[2].As<Napi::Number>().DoubleValue();
  struct sembuf try_ops[2] = {{semnum, 0, IPC_NOWAIT}, {semnum, 1, SEM_UNDO | IPC_NOWAIT}};

  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double deadline = now.tv_sec * 1e3 + now.tv_nsec / 1e6 + timeout_ms;
  for (;;) {
    // Fast path first: an uncontended lock is one non-blocking syscall.
    if (semop(semid, try_ops, 2) == 0) return Napi::Boolean::New(env, true);
    int err = errno;
    if (err != EAGAIN && err != EINTR) {
      ThrowErrno(env, "semop", err);
      return env.Undefined();
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    double left = deadline - (now.tv_sec * 1e3 + now.tv_nsec / 1e6);
    if (left <= 0) return Napi::Boolean::New(env, false);
#ifdef __linux__
    struct sembuf ops[2] = {{semnum, 0, 0}, {semnum, 1, SEM_UNDO}};
    struct timespec wait = {static_cast<time_t>(left / 1e3), static_cast<long>(std::fmod(left, 1e3) * 1e6)};
    if (semtimedop(semid, ops, 2, &wait) == 0) return Napi::Boolean::New(env, true);
    err = errno;
    if (err != EAGAIN && err != EINTR) {
      ThrowErrno(env, "semtimedop", err);
      return env.Undefined();
    }
#else
    // No semtimedop outside Linux: poll every 100 µs until the deadline.
    struct timespec pause = {0, 100000};
    nanosleep(&pause, nullptr);
#endif
  }
}

// semUnlock(semid, semnum)
Napi::Value SemUnlock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgNumbers(info, 2)) return env.Undefined();
  struct sembuf op = {static_cast<unsigned short>(info[1].As<Napi::Number>().Uint32Value()), -1,
                      SEM_UNDO | IPC_NOWAIT};
  if (semop(info[0].As<Napi::Number>().Int32Value(), &op, 1) == -1) ThrowErrno(env, "semop", errno);
  return env.Undefined();
}

// semValue(semid, semnum) -> current value (1 while someone holds the lock).
Napi::Value SemValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgNumbers(info, 2)) return env.Undefined();
  int value = semctl(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(), GETVAL);
  if (value == -1) {
    ThrowErrno(env, "semctl", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, value);
}

// semRemove(semid): the set disappears at once; later semops elsewhere fail with EIDRM.
Napi::Value SemRemove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgNumbers(info, 1)) return env.Undefined();
  if (semctl(info[0].As<Napi::Number>().Int32Value(), 0, IPC_RMID) == -1) ThrowErrno(env, "semctl", errno);
  return env.Undefined();
}

// shmCreate(key, size, mode) -> shmid, or -1 when a segment already has that key.
Napi::Value ShmCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgNumbers(info, 3)) return env.Undefined();
  int id = shmget(info[0].As<Napi::Number>().Int32Value(), static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue()),
                  IPC_CREAT | IPC_EXCL | (info[2].As<Napi::Number>().Int32Value() & 0777));
  if (id == -1) {
    if (errno == EEXIST) return Napi::Number::New(env, -1);
    ThrowErrno(env, "shmget", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, id);
}

// shmOpen(key) -> shmid of an existing segment, or -1 when there is none.
Napi::Value ShmOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgNumbers(info, 1)) return env.Undefined();
  int id = shmget(info[0].As<Napi::Number>().Int32Value(), 0, 0);
  if (id == -1) {
    if (errno == ENOENT) return Napi::Number::New(env, -1);
    ThrowErrno(env, "shmget", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, id);
}

// shmAttach(shmid) -> ArrayBuffer over the whole segment (external memory, not copied).
Napi::Value ShmAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgNumbers(info, 1)) return env.Undefined();
  int shmid = info[0].As<Napi::Number>().Int32Value();
  struct shmid_ds ds;
  if (shmctl(shmid, IPC_STAT, &ds) == -1) {
    ThrowErrno(env, "shmctl", errno);
    return env.Undefined();
  }
  void* addr = shmat(shmid, nullptr, 0);
  if (addr == reinterpret_cast<void*>(-1)) {
    ThrowErrno(env, "shmat", errno);
    return env.Undefined();
  }
  Attachment* attachment = new Attachment{addr, false};
  {
    std::lock_guard<std::mutex> guard(attachments_mutex);
    attachments[addr] = attachment;
  }
  return Napi::ArrayBuffer::New(env, addr, ds.shm_segsz, FinalizeAttachment, attachment);
}

// shmDetach(buffer): detaches the ArrayBuffer (its views read as empty from now on), then the memory.
Napi::Value ShmDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) {
    Napi::TypeError::New(env, "shmDetach(buffer: ArrayBuffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  if (buffer.IsDetached()) return env.Undefined();
  void* addr = buffer.Data();
  std::lock_guard<std::mutex> guard(attachments_mutex);
  auto found = attachments.find(addr);
  if (found == attachments.end()) {
    Napi::TypeError::New(env, "shmDetach: buffer is not an attached segment").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Detach the JS side first so no view can touch the memory once it is unmapped.
  buffer.Detach();
  found->second->detached = true;
  attachments.erase(found);
  if (shmdt(addr) == -1) ThrowErrno(env, "shmdt", errno);
  return env.Undefined();
}

// shmStat(shmid) -> { size, attached, creatorPid, lastPid, mode, uid, gid }
Napi::Value ShmStat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgNumbers(info, 1)) return env.Undefined();
  struct shmid_ds ds;
  if (shmctl(info[0].As<Napi::Number>().Int32Value(), IPC_STAT, &ds) == -1) {
    ThrowErrno(env, "shmctl", errno);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("size", Napi::Number::New(env, static_cast<double>(ds.shm_segsz)));
  out.Set("attached", Napi::Number::New(env, static_cast<double>(ds.shm_nattch)));
  out.Set("creatorPid", Napi::Number::New(env, ds.shm_cpid));
  out.Set("lastPid", Napi::Number::New(env, ds.shm_lpid));
  out.Set("mode", Napi::Number::New(env, ds.shm_perm.mode & 0777));
  out.Set("uid", Napi::Number::New(env, ds.shm_perm.uid));
  out.Set("gid", Napi::Number::New(env, ds.shm_perm.gid));
  out.Set("creatorUid", Napi::Number::New(env, ds.shm_perm.cuid));
  return out;
}

// semStat(semid) -> { count, mode, uid, gid, creatorUid }: who may use the set, before using it.
Napi::Value SemStat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgNumbers(info, 1)) return env.Undefined();
  struct semid_ds ds;
  // Declared here: Linux leaves `union semun` to the caller, macOS declares its own.
  union SemArg {
    int val;
    struct semid_ds* buf;
    unsigned short* array;
  } arg;
  arg.buf = &ds;
  if (semctl(info[0].As<Napi::Number>().Int32Value(), 0, IPC_STAT, arg) == -1) {
    ThrowErrno(env, "semctl", errno);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("count", Napi::Number::New(env, static_cast<double>(ds.sem_nsems)));
  out.Set("mode", Napi::Number::New(env, ds.sem_perm.mode & 0777));
  out.Set("uid", Napi::Number::New(env, ds.sem_perm.uid));
  out.Set("gid", Napi::Number::New(env, ds.sem_perm.gid));
  out.Set("creatorUid", Napi::Number::New(env, ds.sem_perm.cuid));
  return out;
}

// shmRemove(shmid): marks the segment for removal; it goes when the last process detaches.
Napi::Value ShmRemove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgNumbers(info, 1)) return env.Undefined();
  if (shmctl(info[0].As<Napi::Number>().Int32Value(), IPC_RMID, nullptr) == -1) ThrowErrno(env, "shmctl", errno);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("ftok", Napi::Function::New(env, Ftok, "ftok"));
  exports.Set("semOpen", Napi::Function::New(env, SemOpen, "semOpen"));
  exports.Set("semLock", Napi::Function::New(env, SemLock, "semLock"));
  exports.Set("semUnlock", Napi::Function::New(env, SemUnlock, "semUnlock"));
  exports.Set("semValue", Napi::Function::New(env, SemValue, "semValue"));
  exports.Set("semStat", Napi::Function::New(env, SemStat, "semStat"));
  exports.Set("semRemove", Napi::Function::New(env, SemRemove, "semRemove"));
  exports.Set("shmCreate", Napi::Function::New(env, ShmCreate, "shmCreate"));
  exports.Set("shmOpen", Napi::Function::New(env, ShmOpen, "shmOpen"));
  exports.Set("shmAttach", Napi::Function::New(env, ShmAttach, "shmAttach"));
  exports.Set("shmDetach", Napi::Function::New(env, ShmDetach, "shmDetach"));
  exports.Set("shmStat", Napi::Function::New(env, ShmStat, "shmStat"));
  exports.Set("shmRemove", Napi::Function::New(env, ShmRemove, "shmRemove"));
  return exports;
}

}  // namespace

NODE_API_MODULE(sysv, Init)
