// Package transcript writes a conversation handed off by the AI agent (S10)
// as plain text, the form in which another helpdesk's ticket carries it:
// the ticket's first comment in Zendesk, its first message in Gorgias. Both
// clients write it the same way, so that agents read the same thing
// whichever helpdesk the store uses.
//
// The text starts with who the shopper is and which conversation it was,
// then one line per message, oldest first:
//
//	[2026-05-04 09:12:03 UTC] Ana Svensson (shopper): Where is my order?
//	  attachment: https://chat.example.com/u/3f9c….png (image/png)
//	[2026-05-04 09:12:05 UTC] AI agent (ai): Let me hand you over to the team.
//
// Times are in UTC; attachments are links (the other helpdesk fetches
// nothing); a message of several lines continues on lines indented by two
// spaces. It never drops or reorders a message, and imports the standard
// library and engine only.
package transcript
