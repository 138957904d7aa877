export { Acl, AclError, type AclRule, evaluateAcl, parseAcl } from "./acl.js";
export { createAuth, FileAuth, type FileAuthOptions } from "./file-auth.js";
export { filterCovers, filterMatches, filtersOverlap, invalidFilter } from "./topic-filter.js";
export {
  hashPassword,
  invalidUserName,
  parseHash,
  readUsersFile,
  UsersFile,
  UsersFileError,
  verifyPassword,
  writeUsersFile,
} from "./users-file.js";
